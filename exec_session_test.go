//go:build linux

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sondeproject/sonde/internal/proctest"
)

// groupProgram starts a shell with a child in the background, and tells
// the peer their pids: the shell is the -c program, sleep what it left
// running.
const groupProgram = `sleep 300 & echo $$ $!; wait`

// readPids reads the "SHELL SLEEP" line a groupProgram sends, and makes
// sure both end with the test.
func readPids(t *testing.T, c net.Conn) (shell, sleep int) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(30 * time.Second)) // guards a hang only
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the program's pids: %v", err)
	}
	if _, err := fmt.Sscan(line, &shell, &sleep); err != nil {
		t.Fatalf("the program sent %q, not two pids", line)
	}
	t.Cleanup(func() {
		for _, pid := range []int{shell, sleep} {
			if running(pid) {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	return shell, sleep
}

// running tells whether pid is a live process (not a zombie) of sleep or
// sh: a pid reused by another program does not count.
func running(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	comm, rest, ok := strings.Cut(string(b), ") ")
	return ok && (strings.HasSuffix(comm, "(sleep") || strings.HasSuffix(comm, "(sh")) && !strings.HasPrefix(rest, "Z")
}

// wantGone fails unless every pid has ended within a bound that only
// guards a hang.
func wantGone(t *testing.T, what string, pids ...int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for _, pid := range pids {
		for running(pid) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: process %d is still running", what, pid)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// TestExecGroupEndsWithSession: when the session of a -c program ends
// (here the peer resets it), the program and what it started in the
// background end too: SIGTERM to its group, then SIGKILL for what
// ignores it.
func TestExecGroupEndsWithSession(t *testing.T) {
	for _, tc := range []struct{ name, prog string }{
		{"terminated", groupProgram},
		{"killed", `trap "" TERM; ` + groupProgram}, // sleep inherits the ignored SIGTERM
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, addr := startSonde(t, nil, io.Discard, "-l", "-v", "127.0.0.1", "0", "-c", tc.prog)
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			shell, sleep := readPids(t, c)
			c.(*net.TCPConn).SetLinger(0)
			c.Close()
			// Before waiting for sonde: sleep holds sonde's stderr, so a
			// leftover would keep the wait from ending.
			wantGone(t, "after the session", shell, sleep)
			p.Wait(t)
			if !strings.Contains(p.Stderr.String(), "the session was over") {
				t.Errorf("-v does not say the program was ended; stderr:\n%s", p.Stderr)
			}
		})
	}
}

// TestExecGroupEndsWhenPeerLeaves: a program that never ends on its own
// ends with its session once the peer has closed (after the time it has
// to answer) or fell silent past -w, and sonde exits with status 0 for
// a peer that closed, 1 for -w.
func TestExecGroupEndsWhenPeerLeaves(t *testing.T) {
	for _, tc := range []struct {
		name, prog string
		flags      []string
		close      bool // the client closes; else it stays, silent
		want       int
	}{
		{"closed", groupProgram, nil, true, 0},
		{"closed exec", `sleep 300 & echo $$ $!; exec sleep 300`, nil, true, 0},
		{"closed -q", groupProgram, []string{"-q", "0.1"}, true, 0},
		{"idle -w", groupProgram, []string{"-w", "0.5"}, false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"-l", "-v", "127.0.0.1", "0", "-c", tc.prog}, tc.flags...)
			p, addr := startSonde(t, nil, io.Discard, args...)
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			shell, sleep := readPids(t, c)
			if tc.close {
				c.Close()
			}
			wantGone(t, "after the peer left", shell, sleep)
			if code := p.Wait(t); code != tc.want {
				t.Errorf("exit status %d, want %d; stderr:\n%s", code, tc.want, p.Stderr)
			}
			if !strings.Contains(p.Stderr.String(), "the session was over") {
				t.Errorf("-v does not say the program was ended; stderr:\n%s", p.Stderr)
			}
		})
	}
}

// TestExecKeepFreesPlace: with -lk, a client that has left no longer
// holds its place among the clients served at once, though its program
// would run forever: with --max-conns 1 the next client is served.
func TestExecKeepFreesPlace(t *testing.T) {
	_, addr := startSonde(t, nil, io.Discard, "-lk", "--max-conns", "1", "127.0.0.1", "0", "-c", groupProgram)
	first, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	shell, sleep := readPids(t, first)
	first.Close()
	wantGone(t, "the first client's program", shell, sleep)
	// A client beyond the limit is turned away (reset): the place is
	// freed just after the program is gone, so try again, within a bound
	// that only guards a hang.
	deadline := time.Now().Add(20 * time.Second)
	for {
		line, err := firstLine(addr)
		if err == nil {
			var pid, bg int
			if _, err := fmt.Sscan(line, &pid, &bg); err != nil {
				t.Fatalf("the program sent %q, not two pids", line)
			}
			syscall.Kill(-pid, syscall.SIGKILL)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("a second client is still not served once the first has left: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// firstLine connects to addr and reads a line.
func firstLine(addr string) (string, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(20 * time.Second)) // guards a hang only
	return bufio.NewReader(c).ReadString('\n')
}

// TestExecGroupEndsWithSonde: sonde killed by SIGKILL can do nothing, yet
// its program and what that started do not outlive it.
func TestExecGroupEndsWithSonde(t *testing.T) {
	p, addr := startSonde(t, nil, io.Discard, "-l", "127.0.0.1", "0", "-c", groupProgram)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	shell, sleep := readPids(t, c)
	p.Cmd.Process.Kill() // reaped by the cleanup of startSonde
	wantGone(t, "after kill -9 of sonde", shell, sleep)
}

// TestExecHasNoTerminal: sonde runs with a terminal as its controlling
// terminal (as in an interactive shell), and its -c program runs in a
// session of its own, without one: it cannot open /dev/tty, so an
// interactive shell run by -e cannot take over sonde's terminal.
func TestExecHasNoTerminal(t *testing.T) {
	tty := newTerminal(t).tty
	prog := `if (exec 3</dev/tty) 2>/dev/null; then echo tty; else echo none; fi; echo $$; cut -d" " -f6,7 /proc/$$/stat`
	p, addr := startReady(t, proctest.Stdio{Stdin: tty, Stdout: tty}, func(ctx context.Context) *exec.Cmd {
		cmd := exec.CommandContext(ctx, sondeBinary(t), "-l", "127.0.0.1", "0", "-c", prog)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
		return cmd
	})
	// sonde itself has the terminal: the test sets up what it means to.
	if _, ttyNr := sessionAndTerminal(t, p.Cmd.Process.Pid); ttyNr == 0 {
		t.Fatal("sonde has no controlling terminal: the test is broken")
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.(*net.TCPConn).CloseWrite()
	c.SetReadDeadline(time.Now().Add(30 * time.Second)) // guards a hang only
	out, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	var opened string
	var pid, sid, ttyNr int
	if _, err := fmt.Sscan(string(out), &opened, &pid, &sid, &ttyNr); err != nil {
		t.Fatalf("the program said %q", out)
	}
	if opened != "none" || ttyNr != 0 {
		t.Errorf("the program has a controlling terminal (opening /dev/tty: %s, tty_nr %d)", opened, ttyNr)
	}
	if sid != pid {
		t.Errorf("the program (pid %d) is in session %d, not a session of its own", pid, sid)
	}
}

// sessionAndTerminal reads the session and tty_nr of a process.
func sessionAndTerminal(t *testing.T, pid int) (sid, ttyNr int) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	f := strings.Fields(rest) // state ppid pgrp session tty_nr
	sid, _ = strconv.Atoi(f[3])
	ttyNr, _ = strconv.Atoi(f[4])
	return sid, ttyNr
}
