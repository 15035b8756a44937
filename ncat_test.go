package main

import (
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// The ncat names that mean what a sonde flag means are that flag's
// aliases, in every command that has the flag.
func TestNcatAliases(t *testing.T) {
	aliases := map[string]string{
		"ssl":            "tls",
		"ssl-cert":       "cert",
		"ssl-key":        "key",
		"ssl-trustfile":  "ca",
		"ssl-alpn":       "alpn",
		"ssl-servername": "sni",
		"nodns":          "numeric",
		"unixsock":       "unix",
		"source-port":    "port",
	}
	app := newApp(runEnv{stdout: io.Discard, stderr: io.Discard})
	check := func(where string, flags []cli.Flag) {
		for alias, name := range aliases {
			for _, f := range flags {
				if f.Names()[0] == name && !slices.Contains(f.Names(), alias) {
					t.Errorf("%s: --%s lacks ncat's name --%s", where, name, alias)
				}
			}
		}
	}
	check("sonde", app.Flags)
	for _, c := range app.Commands {
		if c.Name == "echo" { // echo's -p is the port it listens on, not a source port
			check(c.Name, slices.DeleteFunc(slices.Clone(c.Flags), func(f cli.Flag) bool { return f.Names()[0] == "port" }))
			continue
		}
		check(c.Name, c.Flags)
	}
	for alias, name := range aliases {
		if _, refused := ncatOptions[alias]; refused {
			t.Errorf("--%s is both an alias of --%s and refused", alias, name)
		}
	}
}

// An alias works end to end as the flag it names (usage errors only, so
// no socket is opened).
func TestNcatAliasesWork(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.pem")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--nodns", "localhost", "1"}, "-n forbids DNS lookups"},
		{[]string{"--ssl-trustfile", missing, "127.0.0.1", "1"}, "cannot read --ca"},
		{[]string{"--ssl-cert", missing, "127.0.0.1", "1"}, "--cert and --key go together"},
		{[]string{"--ssl", "--ssl-servername", "x", "-u", "127.0.0.1", "1"}, "DTLS"},
		{[]string{"--source-port", "99999", "127.0.0.1", "1"}, `bad port "99999"`},
		{[]string{"--unixsock", "-p", "1", "/tmp/x"}, "-U takes"},
	} {
		if got := checkUsageError(t, tc.args); !strings.Contains(got, tc.want) {
			t.Errorf("sonde %q: stderr %q, want %q", tc.args, got, tc.want)
		}
	}
}

// Every ncat name sonde does not take is refused with exit 2, named as
// the user typed it, and a hint with sonde's way.
func TestNcatOptionsRefused(t *testing.T) {
	if len(ncatOptions) < 10 {
		t.Fatalf("only %d ncat options", len(ncatOptions))
	}
	for name, o := range ncatOptions {
		args := []string{dashed(name), "x", "127.0.0.1", "1"}
		got := checkUsageError(t, args)
		want := "sonde: " + dashed(name) + ": " + o.why + "\nsonde: hint: " + o.hint + "\n"
		if got != want {
			t.Errorf("sonde %q:\n%s\nwant:\n%s", args, got, want)
		}
	}
	// The refusals that name sonde's flag name a real one.
	for _, tc := range []struct{ ncat, sonde string }{
		{"hex-dump", "--hex-file"}, {"allowfile", "--allow"}, {"denyfile", "--deny"},
		{"idle-timeout", "-w"}, {"delay", "-i"}, {"lua-exec", "-e"},
	} {
		if !strings.Contains(ncatOptions[tc.ncat].why, tc.sonde+" ") {
			t.Errorf("--%s: %q does not name %s", tc.ncat, ncatOptions[tc.ncat].why, tc.sonde)
		}
	}
	// A command's own flag of such a name is never refused.
	if got := checkUsageError(t, []string{"echo", "--delay", "x", "7"}); !strings.Contains(got, `bad duration "x"`) {
		t.Errorf("echo --delay x: %q", got)
	}
}
