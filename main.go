// Command sonde is a netcat-style network diagnostic tool. This file wires
// the command line to the modes: it builds the cli.App, normalises netcat
// syntax, decides the colour policy and maps errors to exit codes. What a
// mode does lives in package modes; sockets live in package transport;
// the output policy is written down in package ui.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/fatih/color"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/sondeproject/sonde/modes"
	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

// version is stamped at release time with -ldflags "-X main.version=…".
var version = "dev"

// testOnlyReadyFile, when set by the test wrapper, receives the bound
// address of a listener, so end-to-end scripts need neither fixed ports
// nor sleeps.
var testOnlyReadyFile string

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 2
	exitInterrupted = 130
	exitTerminated  = 143
)

const shortUsage = `usage: sonde [flags] HOST PORT            connect (TCP; -u UDP; -U PATH for Unix)
       sonde -l [flags] [HOST] PORT       listen  (also: sonde -lvnp PORT)
       sonde -z HOST PORTS                netcat-style scan (sonde scan for the full report)
       sonde echo|scan|ping|wait|relay    the other modes; sonde MODE --help for each

examples:
  sonde example.com 80                    talk to a port by hand
  echo 'GET / HTTP/1.0' | sonde example.com 80
  sonde -lvnp 4444                        wait for one client on port 4444
  sonde -l 9000 > file                    receive a file (sonde host 9000 < file sends it)
  echo hi | sonde -u 127.0.0.1 7          one UDP datagram, print the reply

run sonde --help for every flag, man sonde for the whole story`

// run is sonde without the process around it: it returns the exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	setColor(os.Getenv("NO_COLOR"), "auto", stderr)
	u := ui.New(stderr, 0)
	if len(args) == 0 {
		fmt.Fprintln(stderr, shortUsage)
		return exitUsage
	}

	ctx, stopSignals := signalContext()
	defer stopSignals()

	app := newApp(runEnv{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr})
	var names []string
	flags := app.Flags
	for _, c := range app.Commands {
		names = append(names, c.Name)
		flags = append(flags, c.Flags...)
	}
	argv := append([]string{"sonde"}, normalizeArgs(args, flags, names)...)
	err := app.Run(argv)
	if err == nil {
		return exitOK
	}
	return report(u, err)
}

// report explains err on stderr and returns the exit code it deserves.
func report(u *ui.UI, err error) int {
	var status *modes.ExitStatus
	if errors.As(err, &status) {
		return status.Code // the mode has said all there is to say
	}
	var intr *modes.Interrupted
	if errors.As(err, &intr) {
		if intr.Signal == "terminated" {
			return exitTerminated
		}
		return exitInterrupted
	}
	x := transport.Explain(err)
	u.Errorf("%s", x.Msg)
	for _, d := range x.Details {
		u.Detailf("%s", d)
	}
	if x.Hint != "" {
		u.Hintf("%s", x.Hint)
	}
	if x.Usage {
		return exitUsage
	}
	return exitFailure
}

// signalContext is cancelled, with a *modes.Interrupted cause, by the
// first SIGINT or SIGTERM; a second one exits at once. SIGPIPE is ignored
// so that a closed stdout shows up as EPIPE, which ends a session quietly.
func signalContext() (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	signal.Ignore(syscall.SIGPIPE)
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig, ok := <-ch
		if !ok {
			return
		}
		cancel(&modes.Interrupted{Signal: sig.String()})
		if sig, ok = <-ch; ok {
			if sig == syscall.SIGTERM {
				os.Exit(exitTerminated)
			}
			os.Exit(exitInterrupted)
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(ch)
		cancel(nil)
	}
}

// setColor applies SPEC §2: colour only on a terminal, without NO_COLOR,
// unless --color always or never overrides.
func setColor(noColor, mode string, stderr io.Writer) {
	switch mode {
	case "always":
		color.NoColor = false
	case "never":
		color.NoColor = true
	default:
		f, ok := stderr.(*os.File)
		color.NoColor = noColor != "" || !ok || !term.IsTerminal(int(f.Fd()))
	}
}

func usageError(format string, args ...any) error {
	return &transport.InputError{Msg: fmt.Sprintf(format, args...)}
}

// onUsageError turns urfave/cli's parse errors into sonde's one-line form.
func onUsageError(_ *cli.Context, err error, _ bool) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		return &transport.InputError{Msg: "unknown flag " + dashed(name), Hint: "sonde --help lists every flag"}
	}
	if rest, ok := strings.CutPrefix(msg, "flag needs an argument: "); ok {
		return &transport.InputError{Msg: "flag " + rest + " needs a value", Hint: "sonde --help lists every flag"}
	}
	if rest, ok := strings.CutPrefix(msg, "Cannot use two forms of the same flag: "); ok {
		if alias, name, ok := strings.Cut(rest, " "); ok { // "w wait": -w and --wait both given
			return &transport.InputError{Msg: dashed(alias) + " and " + dashed(name) + " are the same flag: give it once",
				Hint: "sonde --help lists every flag"}
		}
	}
	return &transport.InputError{Msg: msg, Hint: "sonde --help lists every flag"}
}

// dashed spells a flag name the way the user must have typed it: Go's flag
// package reports "--bogus" as "-bogus".
func dashed(name string) string {
	name = strings.TrimLeft(name, "-")
	if len([]rune(name)) > 1 {
		return "--" + name
	}
	return "-" + name
}

func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func isTerminalWriter(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
