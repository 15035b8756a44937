// Package netchain builds a private chain of network namespaces, for
// tests of what routers and firewalls on the way do to packets (sonde
// trace, sonde check):
//
//	client ── router1 ── router2 ── server
//
//	client   198.18.0.2   fd00:18::2
//	router1  198.18.0.1   fd00:18::1       (and 198.18.1.1, fd00:18:0:1::1)
//	router2  198.18.1.2   fd00:18:0:1::2   (and 198.18.2.1, fd00:18:0:2::1)
//	server   198.18.2.2   fd00:18:0:2::2
//
// Each link is a veth pair; the routers forward (ip_forward, IPv6
// forwarding) and do not rate-limit their ICMP errors, so that tests in
// quick succession all get their answers. Addresses come from
// 198.18.0.0/15 (benchmarking) and fd00::/8 (unique local); every
// namespace routes only those, so nothing leaves the chain. The
// addresses are constants: the namespaces of each chain are its own. A
// router answers a client from the address that faces the client, which
// the Router constants name.
//
// Building a chain needs root and ip(8) on Linux. Build skips the test
// loudly where that is impossible, or fails it when the CI environment
// variable is set, as netnstest does.
package netchain

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/sondeproject/sonde/internal/netnstest"
)

// The addresses of the chain, as the client sees them.
const (
	Client4  = "198.18.0.2"
	Router14 = "198.18.0.1"
	Router24 = "198.18.1.2"
	Server4  = "198.18.2.2"

	Client6  = "fd00:18::2"
	Router16 = "fd00:18::1"
	Router26 = "fd00:18:0:1::2"
	Server6  = "fd00:18:0:2::2"
)

// Chain is a built chain: the names of its four namespaces, for
// `ip netns exec NAME ...`.
type Chain struct {
	Client, Router1, Router2, Server string
}

// Unavailable says why a chain cannot be built here ("" if it can).
func Unavailable() string { return netnstest.Unavailable("ip netns add", "ip", "iproute2") }

// Build builds a chain whose namespaces are named prefix-client,
// prefix-router1, ..., and deletes them when the test ends. prefix must
// be unique on the machine: put the test's name and the process id in it.
func Build(t testing.TB, prefix string) *Chain {
	t.Helper()
	if reason := Unavailable(); reason != "" {
		msg := "NETWORK NAMESPACE CHAIN UNAVAILABLE: " + reason + "; " + t.Name() +
			" needs routers of its own (run the tests as root on Linux with ip(8))"
		if os.Getenv("CI") != "" {
			t.Fatal(msg + " (CI is set: this test must run there)")
		}
		t.Skip(msg)
	}
	c, err := New(prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Error(err)
		}
	})
	return c
}

// New builds a chain whose namespaces are named prefix-client, ...; the
// caller must Close it. On failure, what was built is deleted.
func New(prefix string) (c *Chain, err error) {
	c = &Chain{Client: prefix + "-client", Router1: prefix + "-router1", Router2: prefix + "-router2", Server: prefix + "-server"}
	var made []string
	defer func() {
		if err != nil {
			for _, ns := range made {
				exec.Command("ip", "netns", "delete", ns).Run()
			}
		}
	}()
	for _, ns := range c.all() {
		if err := run("ip", "netns", "add", ns); err != nil {
			return nil, err
		}
		made = append(made, ns)
	}
	// Link n joins the n-th and (n+1)-th namespaces: eth1 on the left,
	// eth0 on the right, subnet 198.18.n.0/24 (fd00:18:0:n::/64), .1 on
	// the right for the client's link and on the left for the others.
	links := []struct{ left, right, left4, right4, left6, right6 string }{
		{c.Client, c.Router1, "198.18.0.2", "198.18.0.1", "fd00:18::2", "fd00:18::1"},
		{c.Router1, c.Router2, "198.18.1.1", "198.18.1.2", "fd00:18:0:1::1", "fd00:18:0:1::2"},
		{c.Router2, c.Server, "198.18.2.1", "198.18.2.2", "fd00:18:0:2::1", "fd00:18:0:2::2"},
	}
	var cmds [][]string
	for _, ns := range c.all() {
		cmds = append(cmds, []string{"-n", ns, "link", "set", "lo", "up"})
	}
	for _, l := range links {
		cmds = append(cmds,
			[]string{"-n", l.left, "link", "add", "eth1", "type", "veth", "peer", "name", "eth0", "netns", l.right},
			[]string{"-n", l.left, "addr", "add", l.left4 + "/24", "dev", "eth1"},
			[]string{"-n", l.left, "addr", "add", l.left6 + "/64", "dev", "eth1", "nodad"},
			[]string{"-n", l.right, "addr", "add", l.right4 + "/24", "dev", "eth0"},
			[]string{"-n", l.right, "addr", "add", l.right6 + "/64", "dev", "eth0", "nodad"},
			[]string{"-n", l.left, "link", "set", "eth1", "up"},
			[]string{"-n", l.right, "link", "set", "eth0", "up"},
		)
	}
	cmds = append(cmds,
		[]string{"-n", c.Client, "route", "add", "198.18.0.0/15", "via", "198.18.0.1"},
		[]string{"-n", c.Client, "route", "add", "fd00:18::/48", "via", "fd00:18::1"},
		[]string{"-n", c.Router1, "route", "add", "198.18.2.0/24", "via", "198.18.1.2"},
		[]string{"-n", c.Router1, "route", "add", "fd00:18:0:2::/64", "via", "fd00:18:0:1::2"},
		[]string{"-n", c.Router2, "route", "add", "198.18.0.0/24", "via", "198.18.1.1"},
		[]string{"-n", c.Router2, "route", "add", "fd00:18::/64", "via", "fd00:18:0:1::1"},
		[]string{"-n", c.Server, "route", "add", "198.18.0.0/15", "via", "198.18.2.1"},
		[]string{"-n", c.Server, "route", "add", "fd00:18::/48", "via", "fd00:18:0:2::1"},
	)
	for _, args := range cmds {
		if err := run("ip", args...); err != nil {
			return nil, err
		}
	}
	for _, ns := range []string{c.Router1, c.Router2, c.Server} {
		// No per-peer limit, and no type counted against the global
		// budget either (ratemask), which the kernel shares between
		// namespaces on some versions.
		sysctls := []string{"net.ipv4.icmp_ratelimit=0", "net.ipv6.icmp.ratelimit=0",
			"net.ipv4.icmp_ratemask=0", "net.ipv6.icmp.ratemask="}
		if ns != c.Server {
			sysctls = append(sysctls, "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1")
		}
		if err := c.Exec(ns, "sysctl", append([]string{"-q", "-w"}, sysctls...)...); err != nil {
			return nil, err
		}
	}
	if err := c.warmUp(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Chain) all() []string { return []string{c.Client, c.Router1, c.Router2, c.Server} }

// Exec runs a program in namespace ns (ip netns exec), e.g. iptables in
// a router.
func (c *Chain) Exec(ns, name string, args ...string) error {
	return run("ip", append([]string{"netns", "exec", ns, name}, args...)...)
}

// Close deletes the chain's namespaces, and with them its links.
func (c *Chain) Close() error {
	var errs []error
	for _, ns := range c.all() {
		if err := run("ip", "netns", "delete", ns); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func run(name string, args ...string) error {
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
