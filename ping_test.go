//go:build unix

package main

import (
	"bytes"
	"regexp"
	"strconv"
	"syscall"
	"testing"

	"github.com/sondeproject/sonde/internal/porttest"
)

// Ctrl-C ends sonde ping with the summary of the probes so far and exit
// status 130, like ping(8).
func TestPingInterruptPrintsSummary(t *testing.T) {
	port := strconv.Itoa(int(porttest.Listener(t).Port()))
	var stdout bytes.Buffer
	p, _ := startSonde(t, nil, &stdout, "ping", "-i", "10ms", "127.0.0.1", port)
	if err := p.Cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := p.Wait(t); code != exitInterrupted {
		t.Errorf("ping interrupted by SIGINT: exit %d, want %d; stderr:\n%s", code, exitInterrupted, p.Stderr)
	}
	want := regexp.MustCompile(`(?m)^--- 127\.0\.0\.1 port ` + port + ` ping statistics ---\n\d+ probes? sent, \d+ ok, \d+(\.\d)?% loss, time \S+$`)
	if !want.MatchString(stdout.String()) {
		t.Errorf("ping interrupted by SIGINT wrote:\n%s\nwant the summary", stdout.String())
	}
	if p.Stderr.Len() != 0 {
		t.Errorf("ping wrote %q to stderr", p.Stderr.String())
	}
}
