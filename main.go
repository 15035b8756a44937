// Command sonde is a netcat-style network diagnostic tool. This file is
// the process around it: signals, and the exit code an error deserves.
// The command line is read in app.go and one file per command (connect.go,
// echo.go, scan.go, ...), from the flags of flags.go; what a mode does
// lives in package modes; sockets live in package transport; the output
// policy is written down in package ui.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/sondeproject/sonde/modes"
	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 2
	exitHangUp      = 129
	exitInterrupted = 130
	exitTerminated  = 143
)

// signalExit is the exit code after each signal sonde ends on: 128 plus
// its number, as a shell reports it.
var signalExit = map[os.Signal]int{
	syscall.SIGHUP:  exitHangUp,
	os.Interrupt:    exitInterrupted,
	syscall.SIGTERM: exitTerminated,
}

// exitAfter is the exit code after the signal named name ("interrupt").
func exitAfter(name string) int {
	for sig, code := range signalExit {
		if sig.String() == name {
			return code
		}
	}
	return exitInterrupted
}

// run is sonde without the process around it: it returns the exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	setColor(os.Getenv, "auto", stderr)
	u := ui.New(stderr, 0)
	if len(args) == 0 {
		fmt.Fprintln(stderr, shortUsage)
		return exitUsage
	}

	ctx, stopSignals := signalContext()
	defer stopSignals()

	err := runApp(runEnv{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr}, args)
	if err == nil {
		return exitOK
	}
	return report(u, err)
}

// report explains err on stderr and returns the exit code it deserves.
func report(u *ui.UI, err error) int {
	var summarized *modes.Summarized
	if errors.As(err, &summarized) {
		defer u.Infof("%s", summarized.Summary) // after the error it sums up
	}
	var status *modes.ExitStatus
	if errors.As(err, &status) {
		return status.Code // the mode has said all there is to say
	}
	var intr *modes.Interrupted
	if errors.As(err, &intr) {
		return exitAfter(intr.Signal)
	}
	x := transport.Explain(err)
	u.Errorf("%s", x.Msg)
	for _, d := range x.Details {
		u.Detailf("%s", d)
	}
	if x.Hint != "" {
		u.Hintf("%s", x.Hint)
	}
	var hinted *hintedError
	if errors.As(err, &hinted) {
		u.Hintf("%s", hinted.hint)
	}
	if x.Usage {
		return exitUsage
	}
	return exitFailure
}

// signalContext is cancelled, with a *modes.Interrupted cause, by the
// first SIGINT, SIGTERM or SIGHUP; a second one exits at once. A SIGINT
// or SIGHUP that was ignored when sonde started (a job of a
// non-interactive shell, nohup, trap "" INT) stays ignored, as in a C
// program; so does SIGQUIT along with SIGINT, since such a shell ignores
// both (Go's runtime would not keep an ignored SIGQUIT by itself).
// SIGPIPE is ignored so that a closed stdout shows up as EPIPE, which
// ends a session quietly.
func signalContext() (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	signal.Ignore(syscall.SIGPIPE)
	if signal.Ignored(os.Interrupt) {
		signal.Ignore(syscall.SIGQUIT)
	}
	watched := []os.Signal{syscall.SIGTERM}
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGHUP} {
		if !signal.Ignored(sig) {
			watched = append(watched, sig)
		}
	}
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, watched...)
	go func() {
		sig, ok := <-ch
		if !ok {
			return
		}
		cancel(&modes.Interrupted{Signal: sig.String()})
		if sig, ok = <-ch; ok {
			os.Exit(signalExit[sig])
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(ch)
		cancel(nil)
	}
}
