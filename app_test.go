package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

// fullRunApp is runApp as it was before it built only the commands a
// line needs: every command, and normalizeArgs reading every flag.
func fullRunApp(env runEnv, args []string) error {
	app := newApp(env)
	if len(args) > 0 && args[0] == "help" {
		helpLine, ok := helpArgs(args, app.Commands)
		if !ok {
			return &transport.InputError{Msg: fmt.Sprintf("no help for %q: sonde help takes a command name", strings.Join(args[1:], " ")),
				Hint: "sonde help lists the commands; to reach a host named help: sonde connect help PORT"}
		}
		args = helpLine
	}
	flags := slices.Clone(app.Flags)
	var names []string
	for _, c := range app.Commands {
		names = append(names, c.Name)
		flags = append(flags, c.Flags...)
	}
	return app.Run(append([]string{"sonde"}, normalizeArgs(args, flags, names)...))
}

// untimed masks the durations a scan reports, which differ run to run.
func untimed(s string) string {
	s = regexp.MustCompile(`"(rtt|elapsed)_ms":[0-9.]+`).ReplaceAllString(s, `"${1}_ms":T`)
	return regexp.MustCompile(`[0-9.]+(µs|ms|s)\b`).ReplaceAllString(s, "T")
}

// acceptCloseListener listens on 127.0.0.1, accepts and closes every
// connection until the test ends, and returns its port.
func acceptCloseListener(tb testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// TestLeanAppSameAsFull: runApp, which builds only the command a line
// names (or none for the root's modes), prints, reports and exits exactly
// as the whole app does, for help of every kind, --version, completion
// scripts, usage errors, typos of flags and commands, and -z on a port.
func TestLeanAppSameAsFull(t *testing.T) {
	port := acceptCloseListener(t)
	lines := []string{
		"--version", "-h", "--help", "--h", "-vh", "127.0.0.1 80 --help", "--help=false --version",
		"--version -z 127.0.0.1 " + port, "-z --version 127.0.0.1 " + port,
		"-z 127.0.0.1 " + port, "-vz 127.0.0.1 " + port, "127.0.0.1 " + port + " -zv",
		"-z", "-z 127.0.0.1", "-p", "127.0.0.1 -p", "-l-p", "-x-y", "--bogus", "-Q",
		"--verbos 127.0.0.1 1", "--hexfile x 127.0.0.1 1", "--nope 127.0.0.1 1",
		"--concurrency 5 127.0.0.1 1", "-m5 127.0.0.1 1", "--color sometimes 127.0.0.1 1",
		"scna 127.0.0.1 80", "-n ehco 9000", "-n -l relya 9000", "-n scan", "a b c d",
		"scan --jsno 127.0.0.1 1", "ping --cuont 1 127.0.0.1 1", "scan --zzzzzz 127.0.0.1 1",
		"scan", "scan -z", "scan --proxy x 127.0.0.1 1", "-v scan", "wait", "trace", "check", "relay",
		"echo --bogus", "ping -c", "connect -l 127.0.0.1 1", "listen -z", "connect", "listen",
		"-n scan 127.0.0.1 " + port, "scan -n 127.0.0.1 " + port + " --json",
		"help", "help scan", "help check", "help trace", "help nope", "help 80", "help scan x",
		"completion", "completion bash", "completion zsh", "completion fish", "completion tcsh",
	}
	for _, c := range commandNames() {
		lines = append(lines, c+" --help", c+" -h", "-h "+c, "help "+c, c+" --bogus", c+" -v --nope")
	}
	run := func(f func(runEnv, []string) error, args []string) (string, string, int) {
		var stdout, stderr bytes.Buffer
		err := f(runEnv{ctx: context.Background(), stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr}, args)
		code := exitOK
		if err != nil {
			code = report(ui.New(&stderr, 0), err)
		}
		return untimed(stdout.String()), untimed(stderr.String()), code
	}
	for _, line := range lines {
		args := strings.Fields(line)
		out, errOut, code := run(runApp, args)
		wantOut, wantErr, wantCode := run(fullRunApp, args)
		if out != wantOut || errOut != wantErr || code != wantCode {
			t.Errorf("sonde %s: exit %d, stdout:\n%s\nstderr:\n%s\nthe whole app: exit %d, stdout:\n%s\nstderr:\n%s",
				line, code, out, errOut, wantCode, wantOut, wantErr)
		}
	}
}
