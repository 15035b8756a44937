package main

import (
	"bytes"
	"io"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// zeros is an endless stream of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// A peer that resets the connection while sonde sends to it: the error
// tells how much was sent, and with -v the totals follow the error that
// ended the session instead of coming before it.
func TestConnectResetWhileSending(t *testing.T) {
	for _, verbose := range []bool{false, true} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		served := make(chan error, 1)
		go func() {
			c, err := ln.Accept()
			if err != nil {
				served <- err
				return
			}
			c.SetDeadline(time.Now().Add(30 * time.Second)) // guards a hang only
			_, err = io.ReadFull(c, make([]byte, 64<<10))
			c.(*net.TCPConn).SetLinger(0) // close with data unread and SO_LINGER 0: a reset
			c.Close()
			served <- err
		}()
		args := []string{"127.0.0.1", strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)}
		if verbose {
			args = append([]string{"-v"}, args...)
		}
		var stdout, stderr bytes.Buffer
		code := run(args, io.LimitReader(zeros{}, 1<<30), &stdout, &stderr)
		ln.Close()
		if err := <-served; err != nil {
			t.Fatalf("server: %v", err)
		}
		lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
		if code != exitFailure {
			t.Fatalf("sonde %s: exit %d, want 1\n%s", strings.Join(args, " "), code, stderr.String())
		}
		reset := regexp.MustCompile(`^sonde: (connection reset by peer 127\.0\.0\.1:\d+|connection to 127\.0\.0\.1:\d+ closed by peer while sending,) after sending [1-9]\d* bytes \([\d.]+ [KM]iB\); 0 bytes received$`)
		i := slices.IndexFunc(lines, reset.MatchString)
		if i < 0 {
			t.Errorf("sonde %s: no line says how much was sent before the reset:\n%s", strings.Join(args, " "), stderr.String())
			continue
		}
		if verbose {
			last := lines[len(lines)-1]
			if !strings.HasPrefix(last, "sonde: sent ") || !strings.Contains(last, ", received 0 bytes in ") {
				t.Errorf("sonde -v: the last line is %q, want the totals, after the error:\n%s", last, stderr.String())
			}
		}
	}
}
