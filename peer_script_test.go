package main

import (
	"io"
	"net"
	"strconv"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// unixpeer NETWORK NAME ADDR: a Unix peer with a name of its choosing.
// It binds NAME (a Go string literal, so that a script can give an
// abstract name holding any byte: "@\x1b[2J"), then for unix connects to
// ADDR, sends "hello\n", half-closes and copies what comes back to
// stdout; for unixgram it sends one datagram "hello\n" to ADDR.
func cmdUnixPeer(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 || (args[0] != "unix" && args[0] != "unixgram") {
		ts.Fatalf("usage: unixpeer unix|unixgram NAME ADDR")
	}
	name, err := strconv.Unquote(args[1])
	ts.Check(err)
	local := &net.UnixAddr{Net: args[0], Name: name}
	remote := &net.UnixAddr{Net: args[0], Name: args[2]}
	if args[0] == "unixgram" {
		c, err := net.ListenUnixgram("unixgram", local)
		ts.Check(err)
		defer c.Close()
		_, err = c.WriteToUnix([]byte("hello\n"), remote)
		ts.Check(err)
		return
	}
	c, err := net.DialUnix("unix", local, remote)
	ts.Check(err)
	defer c.Close()
	c.SetDeadline(time.Now().Add(60 * time.Second)) // guards a hang only
	_, err = io.WriteString(c, "hello\n")
	ts.Check(err)
	ts.Check(c.CloseWrite())
	_, err = io.Copy(ts.Stdout(), c)
	ts.Check(err)
}
