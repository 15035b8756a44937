//go:build unix

package main

import (
	"bytes"
	"io"
	"net"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Every malformed relay command line is one error line (and a hint),
// exit 2, before anything listens.
func TestRelayUsageErrors(t *testing.T) {
	cases := [][]string{
		{"relay"},
		{"relay", ":8080"},
		{"relay", ":8080", "h:80", "extra"},
		{"relay", "-U", "/tmp/a.sock", "/tmp/b.sock"},
		{"relay", "-l", ":0", "h:80"},
		{"relay", "--nope", ":0", "h:80"},
		{"relay", ":0", ":80"},
		{"relay", ":0", "h"},
		{"relay", ":0", "h:"},
		{"relay", ":0", "h:0"},
		{"relay", ":0", "h:70000"},
		{"relay", ":0", "h:nosuchservice"},
		{"relay", "nonsense", "h:80"},
		{"relay", ":70000", "h:80"},
		{"relay", "[::1:80", "h:80"},
		{"relay", ":0", "exa mple.com:80"},
		{"relay", "-4", "-6", ":0", "h:80"},
		{"relay", "--max-conns", "-1", ":0", "h:80"},
		{"relay", "-w", "soon", ":0", "h:80"},
		{"relay", "--idle-timeout", "-1s", ":0", "h:80"},
		{"relay", "-n", "127.0.0.1:0", "example.com:80"},
		{"relay", "-4", "127.0.0.1:0", "[::1]:80"},
		{"relay", "--deny", "10.0.0.0/99", ":0", "h:80"},
		{"relay", "--color", "purple", ":0", "h:80"},
	}
	for _, args := range cases {
		if stderr := checkUsageError(t, args); strings.Contains(stderr, "listening on") {
			t.Errorf("sonde %q: listened before reporting the usage error:\n%s", args, stderr)
		}
	}
}

// The forms LISTEN may take: [HOST]:PORT, [v6]:PORT, or a bare PORT.
func TestRelayAddress(t *testing.T) {
	for _, tc := range []struct {
		in, host, port string
	}{
		{":8080", "", "8080"},
		{"8080", "", "8080"},
		{"127.0.0.1:0", "127.0.0.1", "0"},
		{"[::1]:9000", "::1", "9000"},
		{"localhost:http", "localhost", "http"},
	} {
		got, err := relayAddress("LISTEN", tc.in, true)
		if err != nil || got.Host != tc.host || got.Port != tc.port {
			t.Errorf("LISTEN %q: got %+v, %v; want host %q port %q", tc.in, got, err, tc.host, tc.port)
		}
	}
	if _, err := relayAddress("TARGET", "8080", false); err == nil {
		t.Error("TARGET 8080 (no host) accepted")
	}
}

// Port 0 is always reported; Ctrl-C prints the totals and exits 130.
func TestRelayInterrupt(t *testing.T) {
	target, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	go func() {
		c, err := target.Accept()
		if err == nil {
			io.Copy(c, c)
			c.Close()
		}
	}()
	var stdout bytes.Buffer
	cmd, stderr, addr := startSonde(t, strings.NewReader(""), &stdout, "relay", "127.0.0.1:0", target.Addr().String())
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	io.WriteString(c, "ping")
	if _, err := io.ReadFull(c, make([]byte, 4)); err != nil {
		t.Fatalf("round trip through the relay: %v", err)
	}
	cmd.Process.Signal(syscall.SIGINT)
	if code := exitCode(t, cmd); code != exitInterrupted {
		t.Errorf("exit %d, want 130", code)
	}
	want := regexp.MustCompile(`(?m)\Asonde: listening on 127\.0\.0\.1:\d+ \(tcp\), relaying to ` + regexp.QuoteMeta(target.Addr().String()) + "\n" +
		`sonde: relayed 1 connection \(0 refused, 0 could not reach the target\): 4 bytes to target, 4 bytes to clients in \S+\n\z`)
	if !want.MatchString(stderr.String()) {
		t.Errorf("stderr does not match %s:\n%s", want, stderr)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout %q, want nothing", stdout.String())
	}
}
