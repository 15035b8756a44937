package main

import (
	"bytes"
	"net"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/sondeproject/sonde/internal/proxytest"
)

// TestProxyExecUsageErrors: bad -x / -X / --proxy-auth values and flags
// that cannot go with proxies or programs exit 2 with one line and a hint,
// before any connection is tried.
func TestProxyExecUsageErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"-X", "6", "-x", "127.0.0.1", "h", "80"}, `bad proxy type "6"`},
		{[]string{"-X", "", "-x", "127.0.0.1", "h", "80"}, `missing proxy type`},
		{[]string{"-x", "127.0.0.1:99999", "h", "80"}, `bad port "99999"`},
		{[]string{"-x", "", "h", "80"}, `missing proxy address`},
		{[]string{"-x", "a b", "h", "80"}, `bad host name`},
		{[]string{"-x", "127.0.0.1", "--proxy-auth", "alice", "h", "80"}, `want USER:PASS`},
		{[]string{"-x", "127.0.0.1", "--proxy-auth", "", "h", "80"}, `missing --proxy-auth value`},
		{[]string{"-x", "127.0.0.1", "-l", "8080"}, `-x cannot be combined with -l`},
		{[]string{"-x", "127.0.0.1", "-u", "h", "53"}, `-x cannot be combined with -u`},
		{[]string{"-x", "127.0.0.1", "-U", "/tmp/s"}, `-x cannot be combined with -U`},
		{[]string{"-x", "127.0.0.1", "-z", "h", "80"}, `-x cannot be combined with -z`},
		{[]string{"-X", "4", "h", "80"}, `-X needs -x`},
		{[]string{"-x", "127.0.0.1", "-X", "4", "::1", "80"}, `SOCKS4 cannot carry the IPv6 address`},
		{[]string{"-e", "cat", "-c", "cat", "h", "80"}, `-e and -c cannot be combined`},
		{[]string{"-e", "cat", "-u", "h", "80"}, `-e is not supported with -u`},
		{[]string{"-c", "cat", "-ul", "8080"}, `-c is not supported with -u`},
		{[]string{"-e", "cat", "-d", "h", "80"}, `-e cannot be combined with -d`},
		{[]string{"-e", "cat", "--send-only", "h", "80"}, `-e cannot be combined with --send-only`},
		{[]string{"-e", "cat", "--recv-only", "h", "80"}, `-e cannot be combined with --recv-only`},
		{[]string{"-e", "cat", "-z", "h", "80"}, `-e cannot be combined with -z`},
		{[]string{"-e", "", "h", "80"}, `-e needs a program`},
		{[]string{"-e", "no-such-program-sonde", "h", "80"}, `cannot run -e no-such-program-sonde: not found`},
	}
	for _, c := range cases {
		var stdout, stderr bytes.Buffer
		code := run(c.args, strings.NewReader(""), &stdout, &stderr)
		lines := strings.Split(strings.TrimRight(stderr.String(), "\n"), "\n")
		switch {
		case code != exitUsage:
			t.Errorf("sonde %q: exit %d, want 2; stderr:\n%s", c.args, code, stderr.String())
		case stdout.Len() != 0:
			t.Errorf("sonde %q: wrote %q to stdout", c.args, stdout.String())
		case !strings.Contains(lines[0], c.want):
			t.Errorf("sonde %q: first line %q, want %q", c.args, lines[0], c.want)
		case len(lines) > 2 || len(lines) == 2 && !strings.HasPrefix(lines[1], "sonde: hint: "):
			t.Errorf("sonde %q: want one error line and a hint, got:\n%s", c.args, stderr.String())
		}
	}
}

// TestProxyRefusalExitsOne: a proxy's refusal is a network failure (exit
// 1), not a usage error.
func TestProxyRefusalExitsOne(t *testing.T) {
	px, err := proxytest.Start(proxytest.Config{Type: "connect", Reply: 403})
	if err != nil {
		t.Fatal(err)
	}
	defer px.Close()
	var stdout, stderr bytes.Buffer
	code := run([]string{"-X", "connect", "-x", px.Addr(), "127.0.0.1", "9"}, strings.NewReader(""), &stdout, &stderr)
	if code != exitFailure || !strings.Contains(stderr.String(), "proxy refused: 403 Forbidden") {
		t.Errorf("exit %d, stderr:\n%s\nwant exit 1 and the proxy's answer", code, stderr.String())
	}
}

// TestExecStatusExitsOne: a program that exits non-zero makes sonde exit
// 1 and say so; one that exits 0 leaves sonde's status at 0.
func TestExecStatusExitsOne(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("uses /bin/sh")
	}
	for _, tc := range []struct {
		cmd  string
		code int
		msg  string
	}{
		{"cat >/dev/null; exit 3", exitFailure, `sonde: "cat >/dev/null; exit 3" exited with status 3` + "\n"},
		{"cat >/dev/null", exitOK, ""},
	} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			c, err := ln.Accept()
			if err == nil {
				c.Write([]byte("data\n"))
				c.(*net.TCPConn).CloseWrite()
				c.Read(make([]byte, 1))
				c.Close()
			}
		}()
		port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		var stdout, stderr bytes.Buffer
		code := run([]string{"-c", tc.cmd, "127.0.0.1", port}, strings.NewReader(""), &stdout, &stderr)
		ln.Close()
		if code != tc.code || stderr.String() != tc.msg {
			t.Errorf("-c %q: exit %d, stderr %q; want exit %d, stderr %q", tc.cmd, code, stderr.String(), tc.code, tc.msg)
		}
	}
}
