package main

// The proxy (-x, -X, --proxy-auth) and the program (-e, -c) of a connect
// or listen: read and checked before any socket is opened, then put in its
// options.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/sondeproject/sonde/modes"
	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

// proxyAuthEnv holds proxy credentials kept out of argv, which every
// local user can read in ps.
const proxyAuthEnv = "SONDE_PROXY_AUTH"

// proxyFlag reads -x, -X and the credentials (nil without -x), and rejects
// proxy flags that cannot apply, and bad values, before any socket is
// opened.
func proxyFlag(c *cli.Context, listen bool) (*transport.Proxy, error) {
	if !c.IsSet("proxy") {
		switch {
		case c.IsSet("proxy-type"):
			return nil, usageError("-X needs -x: give the proxy's address too")
		case c.IsSet("proxy-auth"):
			return nil, usageError("--proxy-auth needs -x: give the proxy's address too")
		case c.IsSet("proxy-auth-file"):
			return nil, usageError("--proxy-auth-file needs -x: give the proxy's address too")
		}
		return nil, nil
	}
	const hint = "a proxy carries TCP connections made by sonde; drop -x"
	switch {
	case listen:
		return nil, &transport.InputError{Msg: "-x cannot be combined with -l: proxies carry outgoing connections only", Hint: hint}
	case c.Bool("udp"):
		return nil, &transport.InputError{Msg: "-x cannot be combined with -u: sonde's proxies carry TCP only", Hint: hint}
	case c.Bool("unix"):
		return nil, &transport.InputError{Msg: "-x cannot be combined with -U", Hint: hint}
	case c.Bool("zero"):
		return nil, &transport.InputError{Msg: "-x cannot be combined with -z: scans do not go through proxies", Hint: hint}
	}
	if c.IsSet("proxy-type") {
		if _, err := transport.ParseProxyType(c.String("proxy-type")); err != nil {
			return nil, err
		}
	}
	auth, from, err := proxyCredentials(c)
	if err != nil {
		return nil, err
	}
	return transport.ParseProxy(c.String("proxy"), c.String("proxy-type"), auth, from)
}

// proxyCredentials finds the proxy's USER:PASS and names where it came
// from: --proxy-auth or --proxy-auth-file (never both), else
// SONDE_PROXY_AUTH; "" for none.
func proxyCredentials(c *cli.Context) (auth, from string, err error) {
	switch {
	case c.IsSet("proxy-auth") && c.IsSet("proxy-auth-file"):
		return "", "", &transport.InputError{Msg: "--proxy-auth and --proxy-auth-file cannot be combined: give the credentials once",
			Hint: "--proxy-auth-file keeps the password out of ps; drop --proxy-auth"}
	case c.IsSet("proxy-auth"):
		if c.String("proxy-auth") == "" {
			_, _, err := transport.ParseProxyAuth("", "", "--proxy-auth")
			return "", "", err
		}
		return c.String("proxy-auth"), "--proxy-auth", nil
	case c.IsSet("proxy-auth-file"):
		path := c.String("proxy-auth-file")
		auth, err := readSecretFile("--proxy-auth-file", path)
		return auth, "--proxy-auth-file " + path, err
	}
	if auth := os.Getenv(proxyAuthEnv); auth != "" {
		return auth, proxyAuthEnv, nil
	}
	return "", "", nil
}

// pathCause is err without the *fs.PathError around it: the message names
// the file already.
func pathCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// maxSecretLine bounds the first line of a secret file: credentials are
// short, and a huge file is a mistake.
const maxSecretLine = 4096

// readSecretFile reads the first line of a file that holds a secret
// (trailing newline stripped), given with flag. It refuses a file that is
// not a regular file, or that anyone but its owner may read or write: its
// secret is no longer one. Windows keeps permissions in ACLs, which are
// not checked.
func readSecretFile(flag, path string) (string, error) {
	bad := func(format string, args ...any) error {
		return &transport.InputError{Msg: fmt.Sprintf("%s %s: ", flag, path) + fmt.Sprintf(format, args...),
			Hint: "give a file of mode 0600 whose first line is USER:PASS"}
	}
	// Stat before opening: opening a FIFO would wait for a writer.
	info, err := os.Stat(path)
	if err != nil {
		return "", bad("cannot read it: %v", pathCause(err))
	}
	if !info.Mode().IsRegular() {
		return "", bad("not a regular file")
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return "", &transport.InputError{
			Msg:  fmt.Sprintf("%s %s: other users may read or change it (mode %04o)", flag, path, perm),
			Hint: "chmod 600 " + path + ": a file that holds a password must be private to its owner"}
	}
	f, err := os.Open(path)
	if err != nil {
		return "", bad("cannot read it: %v", pathCause(err))
	}
	defer f.Close()
	// The file read must be the file checked, not one swapped in since.
	if opened, err := f.Stat(); err != nil || !os.SameFile(info, opened) {
		return "", bad("it changed while sonde read it")
	}
	line, err := bufio.NewReaderSize(io.LimitReader(f, maxSecretLine+1), maxSecretLine+1).ReadString('\n')
	switch {
	case err != nil && err != io.EOF:
		return "", bad("cannot read it: %v", err)
	case len(line) > maxSecretLine:
		return "", bad("its first line is longer than %d bytes", maxSecretLine)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", bad("its first line is empty")
	}
	return line, nil
}

// execFlag names the exec flag given ("-e" or "-c"), or "".
func execFlag(c *cli.Context) string {
	switch {
	case c.IsSet("exec"):
		return "-e"
	case c.IsSet("sh-exec"):
		return "-c"
	}
	return ""
}

// checkExec rejects -e / -c where a program cannot take stdin's and
// stdout's place, before any socket is opened.
func checkExec(c *cli.Context) error {
	flag := execFlag(c)
	if flag == "" {
		return nil
	}
	const hint = "the program's output is what sonde sends, and what arrives is its input"
	switch {
	case c.IsSet("exec") && c.IsSet("sh-exec"):
		return &transport.InputError{Msg: "-e and -c cannot be combined: give one program", Hint: "-e runs a program directly, -c runs a shell command"}
	case c.Bool("udp"):
		return &transport.InputError{Msg: flag + " is not supported with -u", Hint: "a program is connected to one stream; use TCP or -U"}
	case c.Bool("zero"):
		return usageError("%s cannot be combined with -z: a scan sends no data", flag)
	case c.IsSet("no-stdin"):
		return &transport.InputError{Msg: flag + " cannot be combined with -d", Hint: hint}
	case c.IsSet("send-only"):
		return &transport.InputError{Msg: flag + " cannot be combined with --send-only", Hint: hint}
	case c.IsSet("recv-only"):
		return &transport.InputError{Msg: flag + " cannot be combined with --recv-only", Hint: hint}
	}
	_, err := parseExec(c)
	return err
}

func parseExec(c *cli.Context) (*modes.Exec, error) {
	switch execFlag(c) {
	case "-e":
		return modes.ParseExec(c.String("exec"))
	case "-c":
		return modes.ShellExec(c.String("sh-exec"))
	}
	return nil, nil
}

// applyExec fills in the program of a connect or listen whose flags
// checkExec has passed. A listener that runs a program for whoever can
// connect says who that is, unless --allow (TCP) or --allow-uid (Unix)
// limits it.
func applyExec(c *cli.Context, o *modes.Options, listen bool, u *ui.UI, stderr io.Writer) error {
	x, err := parseExec(c)
	if err != nil || x == nil {
		return err
	}
	x.Stderr = stderr
	o.Exec = x
	if !listen {
		return nil
	}
	var who, hint string
	switch {
	case o.Network != "unix":
		if c.IsSet("allow") {
			return nil
		}
		who, hint = "anyone who can reach its port", "restrict clients with --allow CIDR"
		if o.Listen.Port != 0 {
			who = fmt.Sprintf("anyone who can reach port %d", o.Listen.Port)
		}
	case c.IsSet("allow-uid"):
		return nil
	case strings.HasPrefix(o.Listen.Host, "@"):
		who = "anyone in this network namespace (an abstract socket has no file permissions)"
		hint = "restrict clients with --allow-uid UID"
	default:
		who = fmt.Sprintf("whoever may open %s (its mode and its directory's decide)", o.Listen.Host)
		hint = "restrict clients with --allow-uid UID, or put the socket in a directory only they can enter"
		if !transport.PeerCredSupported {
			hint = "put the socket in a directory only the users you trust can enter"
		}
	}
	u.Warnf("%s on a listener runs %s for %s", execFlag(c), x.Name, who)
	u.Hintf("%s", hint)
	return nil
}
