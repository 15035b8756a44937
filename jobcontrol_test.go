//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/sondeproject/sonde/internal/proctest"
)

// interactiveShell is bash -i on a pseudo-terminal of its own, with job
// control, as a person at a terminal runs it.
type interactiveShell struct {
	t    *testing.T
	dir  string
	term *terminal
}

func startInteractiveShell(t *testing.T) *interactiveShell {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatalf("this test needs bash: %v", err)
	}
	sh := &interactiveShell{t: t, dir: t.TempDir(), term: newTerminal(t)}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	cmd := exec.CommandContext(ctx, bash, "--norc", "--noprofile", "-i")
	cmd.Env = append(os.Environ(), "TERM=dumb", "PS1=$ ", "HISTFILE=/dev/null")
	// bash takes its terminal for job control from stderr: all three are it.
	cmd.Stdin, cmd.Stdout, cmd.Stderr = sh.term.tty, sh.term.tty, sh.term.tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the terminal showed:\n%s", sh.term.out.String())
		}
		if b, err := os.ReadFile(sh.path("pid")); err == nil {
			if pid, ok := proctest.ParsePid(b); ok {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		cmd.Process.Kill()
		cmd.Wait()
		cancel()
	})
	return sh
}

func (sh *interactiveShell) path(name string) string { return filepath.Join(sh.dir, name) }

// typeLine types line and Enter at the terminal.
func (sh *interactiveShell) typeLine(line string) {
	sh.t.Helper()
	if _, err := io.WriteString(sh.term.ptm, line+"\n"); err != nil {
		sh.t.Fatal(err)
	}
}

// waitFor waits until the file name in the shell's directory matches re,
// and returns its content.
func (sh *interactiveShell) waitFor(name, re string) string {
	sh.t.Helper()
	pattern := regexp.MustCompile(re)
	return string(proctest.WaitFile(sh.t, nil, sh.path(name), name+" to match "+re, pattern.Match))
}

// background types `sonde ARGS > out &` (with the redirections given)
// and records its pid; then, unless then is given, waits for it and
// writes its exit status to the file status. It returns the address
// sonde listens on.
func (sh *interactiveShell) background(args, redirect, then string) string {
	sh.t.Helper()
	if then == "" {
		then = `wait $!; ` + sh.saveStatus()
	}
	sh.typeLine(fmt.Sprintf(`SONDE_READY=%s sonde %s %s & echo $! > %s; %s`, sh.path("ready"), args, redirect, sh.path("pid"), then))
	return sh.waitFor("ready", `.`)
}

// saveStatus is a command that writes the last exit status to the file status.
func (sh *interactiveShell) saveStatus() string { return `echo "exit=$?" > ` + sh.path("status") }

func send(t *testing.T, addr, data string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(c, data); err != nil {
		t.Fatal(err)
	}
	return c
}

// `sonde -l PORT > file &` in an interactive shell keeps receiving: it does
// not read the terminal it does not own (which would stop it, "Stopped
// (tty input)"), and ends as usual when its client closes.
func TestBackgroundListenerKeepsReceiving(t *testing.T) {
	sh := startInteractiveShell(t)
	addr := sh.background("-l 127.0.0.1 0", "> "+sh.path("out"), "")
	send(t, addr, "hello from a client\n").Close()
	sh.waitFor("status", `exit=\d+`)
	if status, _ := os.ReadFile(sh.path("status")); string(status) != "exit=0\n" {
		t.Errorf("the background listener ended with %q, want exit=0 (149 is stopped by SIGTTIN)", status)
	}
	if out, _ := os.ReadFile(sh.path("out")); string(out) != "hello from a client\n" {
		t.Errorf("out holds %q, want what the client sent", out)
	}
}

// `sonde -lkv PORT >> log &` serves one client after another, and says
// with -v why it does not read its terminal.
func TestBackgroundKeepListenerServesEveryClient(t *testing.T) {
	sh := startInteractiveShell(t)
	addr := sh.background("-lkv 127.0.0.1 0", ">> "+sh.path("log")+" 2> "+sh.path("stderr"), "")
	for i, line := range []string{"first\n", "second\n", "third\n"} {
		c := send(t, addr, line)
		sh.waitFor("log", fmt.Sprintf(`(?s)\A(.*\n){%d}\z`, i+1))
		c.Close()
	}
	pid := proctest.WaitPid(t, sh.path("pid"))
	syscall.Kill(pid, syscall.SIGTERM)
	if status := sh.waitFor("status", `exit=\d+`); status != "exit=143\n" {
		t.Errorf("the background listener ended with %q after SIGTERM, want exit=143", status)
	}
	if log, _ := os.ReadFile(sh.path("log")); string(log) != "first\nsecond\nthird\n" {
		t.Errorf("log holds %q, want every client's line", log)
	}
	sh.waitFor("stderr", `(?m)^sonde: stdin is the terminal of a background job: not reading it until it is brought to the foreground$`)
}

// Brought back to the foreground (fg), the listener reads the terminal
// again: a line typed there reaches the client.
func TestForegroundAgainReadsTheTerminal(t *testing.T) {
	sh := startInteractiveShell(t)
	addr := sh.background("-lv 127.0.0.1 0", "> "+sh.path("out")+" 2> "+sh.path("stderr"), "true")
	c := send(t, addr, "hi\n")
	defer c.Close()
	sh.waitFor("stderr", `(?m)^sonde: stdin is the terminal of a background job`)
	sh.waitFor("out", `hi\n`)
	sh.typeLine("fg; " + sh.saveStatus())
	sh.waitFor("stderr", `(?m)^sonde: in the foreground: reading the terminal$`)
	sh.typeLine("typed at the terminal")
	got := make([]byte, len("typed at the terminal\n"))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("the client read %q, then %v", got, err)
	}
	if string(got) != "typed at the terminal\n" {
		t.Errorf("the client got %q, want the line typed", got)
	}
	c.Close()
	if status := sh.waitFor("status", `exit=\d+`); status != "exit=0\n" {
		t.Errorf("the listener ended with %q, want exit=0", status)
	}
}
