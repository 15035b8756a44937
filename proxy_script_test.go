package main

import (
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/sondeproject/sonde/internal/proxytest"
)

// fakeproxy VAR TYPE [user=U] [pass=P] [reply=N] [silent] [after=TEXT] [hangup]:
// start a proxy of TYPE (5, 4 or connect) on loopback for the rest of the
// script, and set $VAR to its address. user/pass are the credentials it
// requires, reply the refusal it gives every request (SOCKS reply code or
// HTTP status), silent makes it accept and never answer, after is sent
// right behind an HTTP proxy's 200 answer, hangup closes the tunnel both
// ways when the client half-closes. It forwards to loopback only.
func cmdFakeProxy(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: fakeproxy VAR TYPE [user=U] [pass=P] [reply=N] [silent] [after=TEXT] [hangup]")
	}
	cfg := proxytest.Config{Type: args[1]}
	for _, opt := range args[2:] {
		k, v, _ := strings.Cut(opt, "=")
		switch k {
		case "user":
			cfg.User = v
		case "pass":
			cfg.Password = v
		case "reply":
			n, err := strconv.Atoi(v)
			ts.Check(err)
			cfg.Reply = n
		case "silent":
			cfg.Silent = true
		case "after":
			cfg.AfterHeaders = []byte(v)
		case "hangup":
			cfg.HangUpOnHalfClose = true
		default:
			ts.Fatalf("fakeproxy: unknown option %q", opt)
		}
	}
	s, err := proxytest.Start(cfg)
	ts.Check(err)
	ts.Defer(func() { s.Close() })
	ts.Setenv(args[0], s.Addr())
}
