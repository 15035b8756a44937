package main

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/sondeproject/sonde/internal/netnstest"
	"github.com/sondeproject/sonde/internal/porttest"
)

// dualStackPort is a port that accepts on 127.0.0.1 only, while [::1] on
// the same port is held by a socket bound and not listening, so a connect
// there is refused and nothing else can take it: a service that listens
// on IPv4 only, behind a name whose first address is IPv6.
func dualStackPort(t *testing.T) int {
	t.Helper()
	for range 20 {
		port := porttest.Listener(t).Port()
		fd, err := syscall.Socket(syscall.AF_INET6, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := syscall.Bind(fd, &syscall.SockaddrInet6{Port: int(port), Addr: netip.IPv6Loopback().As16()}); err != nil {
			syscall.Close(fd)
			continue // that port is taken on ::1: try another
		}
		t.Cleanup(func() { syscall.Close(fd) })
		return int(port)
	}
	t.Fatal("no port free on both 127.0.0.1 and ::1")
	return 0
}

// sondeWithHosts runs sonde in a mount namespace of its own (unshare -m:
// nothing propagates to the machine) where /etc/hosts is hosts, with the
// Go resolver, which reads it in order. A name not in hosts is asked of
// 127.0.0.1:53, where nothing listens, so no query leaves the machine and
// the lookup fails at once. It needs root.
func sondeWithHosts(t *testing.T, hosts string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	if os.Geteuid() != 0 {
		msg := "NOT ROOT: " + t.Name() + " needs root for unshare -m and mount --bind"
		if os.Getenv("CI") != "" {
			t.Fatal(msg + " (CI is set: this test must run there)")
		}
		t.Skip(msg)
	}
	netnstest.RequireProgram(t, "unshare")
	netnstest.RequireProgram(t, "mount")
	bin, err := exec.LookPath("sonde")
	if err != nil {
		t.Fatalf("sonde not in PATH (TestMain sets it up): %v", err)
	}
	dir := t.TempDir()
	file, resolv := filepath.Join(dir, "hosts"), filepath.Join(dir, "resolv.conf")
	if err := os.WriteFile(file, []byte(hosts), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(resolv, []byte("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "unshare", append([]string{"-m", "--", "sh", "-c",
		`mount --bind "$0" /etc/hosts && mount --bind "$1" /etc/resolv.conf && shift && exec "$@"`, file, resolv, bin}, args...)...)
	cmd.Env = append(os.Environ(), "GODEBUG=netdns=go")
	var out, errs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errs
	err = cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("sonde %v: %v", args, err)
	}
	return out.String(), errs.String(), code
}

// dualHosts names dualhost ::1 first, then 127.0.0.1, as a dual-stack
// localhost often is.
const dualHosts = "::1 dualhost\n127.0.0.1 dualhost\n"

// wait succeeds when any address of the name accepts, and its report
// says which one did.
func TestWaitEveryAddress(t *testing.T) {
	port := strconv.Itoa(dualStackPort(t))
	stdout, stderr, code := sondeWithHosts(t, dualHosts, "wait", "--timeout", "5s", "dualhost", port)
	want := regexp.MustCompile(`^dualhost:` + port + ` accepts connections on 127\.0\.0\.1:` + port + `: attempt 1, after \S+\n$`)
	if code != 0 || !want.MatchString(stdout) {
		t.Errorf("wait for dualhost (::1 refused, 127.0.0.1 accepts): exit %d, stdout %q, stderr %q; want exit 0 and %s", code, stdout, stderr, want)
	}
}

// ping pings the address that answers, and its header says so.
func TestPingEveryAddress(t *testing.T) {
	port := strconv.Itoa(dualStackPort(t))
	for _, mode := range [][]string{nil, {"--json"}} {
		args := append([]string{"ping", "-c", "2", "-i", "10ms"}, mode...)
		stdout, stderr, code := sondeWithHosts(t, dualHosts, append(args, "dualhost", port)...)
		if code != 0 {
			t.Errorf("sonde %v dualhost (::1 refused, 127.0.0.1 accepts): exit %d, want 0\nstdout:\n%s\nstderr:\n%s", args, code, stdout, stderr)
		}
		want := regexp.MustCompile(`(?m)\A` + `PING dualhost \(127\.0\.0\.1\) port ` + port + `: TCP handshake every 10ms \(::1 refused, using 127\.0\.0\.1\)\n` +
			`127\.0\.0\.1:` + port + `: seq=1 time=`)
		if mode != nil {
			want = regexp.MustCompile(`(?m)^\{"type":"summary","host":"dualhost","addr":"127\.0\.0\.1",.*"sent":2,"ok":2,`)
		}
		if !want.MatchString(stdout) {
			t.Errorf("sonde %v dualhost wrote:\n%s\nwant a match for %s", args, stdout, want)
		}
	}
}

// A name that does not resolve still ends ping --json and wait --json
// with a summary, whose error says so.
func TestJSONSummaryOfUnresolvedName(t *testing.T) {
	for _, args := range [][]string{
		{"ping", "--json", "-c", "1", "nosuch.sonde.test", "80"},
		{"wait", "--json", "--timeout", "300ms", "nosuch.sonde.test", "80"},
	} {
		stdout, stderr, code := sondeWithHosts(t, dualHosts, args...)
		want := regexp.MustCompile(`(?m)^\{"type":"summary","host":"nosuch\.sonde\.test",.*"error":"[^"]*cannot resolve nosuch\.sonde\.test[^"]*"\}\n\z`)
		if code != 1 || !want.MatchString(stdout) {
			t.Errorf("sonde %v: exit %d, stdout:\n%s\nstderr:\n%s\nwant exit 1 and a summary matching %s", args, code, stdout, stderr, want)
		}
	}
}
