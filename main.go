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
	exitInterrupted = 130
	exitTerminated  = 143
)

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
