// Package netnstest runs a test inside a private network namespace, for
// tests that touch ports they did not open themselves (a scan of a whole
// range): there, 127.0.0.1 belongs to the test alone, and nothing it does
// can reach the shared machine's loopback.
//
// Private re-runs the calling test in a child of the test binary started
// with `unshare -n` (a new network namespace, which needs root), brings
// the loopback interface up there, and reports the child's result. Where
// that is impossible (not Linux, not root, no unshare), the test is
// skipped with a loud message, or failed when the CI environment variable
// is set, so CI cannot lose the coverage unnoticed.
package netnstest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

// envVar carries the name of the test the child must run in its
// namespace; parentVar the parent's namespace, which the child must not be in.
const (
	envVar    = "SONDE_NETNS_TEST"
	parentVar = "SONDE_NETNS_PARENT"
)

// childTimeout bounds the child test; it guards against hangs.
const childTimeout = 5 * time.Minute

// Private reports whether the caller runs inside its private namespace
// and should go on. Outside, it runs the test in the namespace, reports
// its output and result, and returns false: the caller returns at once.
//
//	if !netnstest.Private(t) {
//		return
//	}
func Private(t *testing.T) bool {
	t.Helper()
	return private(t)
}

// PrivateWithout is Private for a test that must run as an ordinary user
// would, without the given capabilities ("net_bind_service",
// "dac_override"): setpriv(1) drops them from the child's bounding set, so
// the child, though root, cannot bind a port below 1024 or open a file its
// mode forbids. The namespace keeps the machine's sysctls out of it (a
// container may allow every user to bind low ports).
func PrivateWithout(t *testing.T, caps ...string) bool {
	t.Helper()
	drop := make([]string, len(caps))
	for i, c := range caps {
		drop[i] = "-" + c
	}
	return private(t, "setpriv", "--bounding-set="+strings.Join(drop, ","), "--")
}

func private(t *testing.T, wrapper ...string) bool {
	t.Helper()
	if strings.Contains(t.Name(), "/") {
		t.Fatal("netnstest.Private works for top-level tests only")
	}
	if os.Getenv(envVar) == t.Name() {
		enter(t)
		return true
	}
	reason := unavailable()
	if len(wrapper) > 0 && reason == "" {
		if _, err := exec.LookPath(wrapper[0]); err != nil {
			reason = wrapper[0] + " is not installed (apt-get install -y util-linux)"
		}
	}
	if reason != "" {
		msg := "PRIVATE NETWORK NAMESPACE UNAVAILABLE: " + reason + "; " + t.Name() +
			" changes what only a namespace of its own may change (ports it did not open, sysctls, capabilities), so it cannot run here " +
			"(run the tests as root on Linux with unshare(1), setpriv(1) and ip(8))"
		if os.Getenv("CI") != "" {
			t.Fatal(msg + " (CI is set: this test must run there)")
		}
		t.Skip(msg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), childTimeout)
	defer cancel()
	args := append(append([]string{"-n", "--"}, wrapper...), os.Args[0],
		"-test.run=^"+regexp.QuoteMeta(t.Name())+"$", "-test.count=1", "-test.v")
	cmd := exec.CommandContext(ctx, "unshare", args...)
	parent, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Env = append(os.Environ(), envVar+"="+t.Name(), parentVar+"="+parent)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s in a private network namespace: %v\n%s", t.Name(), err, out)
	}
	if strings.Contains(string(out), "--- SKIP: "+t.Name()) {
		t.Skipf("skipped in its private network namespace:\n%s", out)
	}
	if !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("%s did not pass in its private network namespace:\n%s", t.Name(), out)
	}
	t.Logf("ran in a private network namespace:\n%s", out)
	return false
}

func unavailable() string {
	return Unavailable("unshare -n", "unshare", "util-linux")
}

// Unavailable says why network namespaces cannot be made here with
// program ("" if they can): how is what needs root, and pkg the Debian
// package that installs program.
func Unavailable(how, program, pkg string) string {
	switch {
	case runtime.GOOS != "linux":
		return "network namespaces exist only on Linux"
	case os.Geteuid() != 0:
		return how + " needs root"
	}
	if _, err := exec.LookPath(program); err != nil {
		return program + " is not installed (apt-get install -y " + pkg + ")"
	}
	return ""
}

// enter finishes setting up the namespace, and makes sure it is one: not
// the parent's, and fresh, with no interface up but (soon) loopback.
func enter(t *testing.T) {
	t.Helper()
	self, err := os.Readlink("/proc/self/ns/net")
	if err != nil || self == os.Getenv(parentVar) {
		t.Fatalf("refusing to run: not in a network namespace of its own (%s, %v)", self, err)
	}
	ifaces, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, ifi := range ifaces {
		if ifi.Flags&(net.FlagLoopback|net.FlagUp) == net.FlagUp {
			t.Fatalf("refusing to run: interface %s is up, this is not a fresh network namespace", ifi.Name)
		}
	}
	if err := loopbackUp(); err != nil {
		t.Fatalf("cannot set lo up in the private network namespace: %v", err)
	}
}

// Run runs a setup command inside the namespace (ip route ...). A missing
// program skips the test loudly, or fails it under CI, as a missing
// namespace does.
func Run(t *testing.T, name string, args ...string) {
	t.Helper()
	if !Inside() {
		t.Fatal("netnstest.Run outside a private network namespace")
	}
	RequireProgram(t, name)
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// Inside tells whether this process is the copy of a test that Private
// started in its private namespace.
func Inside() bool { return os.Getenv(envVar) != "" }

// RequireProgram skips the test loudly when a program it needs is not
// installed, or fails it under CI, as a missing namespace does.
func RequireProgram(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err == nil {
		return
	}
	pkg := map[string]string{"ip": "iproute2", "tc": "iproute2", "iptables": "iptables"}[name]
	if pkg == "" {
		pkg = "util-linux"
	}
	msg := "PROGRAM MISSING: " + t.Name() + " needs " + name + " (apt-get install -y " + pkg + ")"
	if os.Getenv("CI") != "" {
		t.Fatal(msg + " (CI is set: this test must run there)")
	}
	t.Skip(msg)
}

// SetLocalPortRange sets the range ephemeral ports are taken from, which
// is private to the namespace too.
func SetLocalPortRange(t *testing.T, low, high int) {
	t.Helper()
	if !Inside() {
		t.Fatal("netnstest.SetLocalPortRange outside a private network namespace")
	}
	if err := os.WriteFile("/proc/sys/net/ipv4/ip_local_port_range", fmt.Appendf(nil, "%d %d", low, high), 0); err != nil {
		t.Fatal(err)
	}
}
