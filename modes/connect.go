package modes

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/sondeproject/sonde/transport"
)

// Connect runs connect mode: dial the target, then pipe stdin to
// it and what it sends to stdout until the session ends.
func Connect(ctx context.Context, o *Options) error {
	u := o.UI
	if err := checkStdin(o); err != nil {
		return err
	}
	dopts := transport.DialOptions{
		Network:    o.Network,
		SourcePort: o.SourcePort,
		Timeout:    o.Timeout,
		Proxy:      o.Proxy,
		OnResolve: func(host string, addrs []netip.Addr) {
			list := make([]string, len(addrs))
			for i, a := range addrs {
				list[i] = a.String()
			}
			u.Verbosef(1, "resolved %s to %s", host, strings.Join(list, ", "))
		},
		// Said before the connect, so that one that hangs (a SYN dropped
		// by a firewall) shows where at once.
		OnDial: func(addr string) {
			if o.Proxy != nil {
				u.Verbosef(1, "connecting to proxy %s (tcp)…", addr)
			} else if o.Network == "tcp" {
				u.Verbosef(1, "connecting to %s (tcp)…", addr)
			}
		},
	}
	// Failed addresses are worth a -v line only when a later one works:
	// if all fail, the error lists them anyway.
	var failed []string
	dopts.OnAttempt = func(addr string, err error) {
		failed = append(failed, fmt.Sprintf("%s: %s", addr, transport.Explain(err).Msg))
	}
	start := time.Now()
	conn, err := transport.Dial(ctx, o.Target, dopts)
	if err != nil {
		if isInterrupted(err) { // Ctrl-C while resolving or connecting: -v still sums up
			u.Verbosef(1, "%s", (&stats{started: start}).summary())
		}
		return err
	}
	for _, f := range failed {
		u.Verbosef(1, "%s", f)
	}
	defer conn.Close()
	took := time.Since(start)
	if o.Network == "udp" || o.Network == "unixgram" {
		u.Verbosef(1, "sending datagrams to %s (%s)", peerName(conn), describeNetwork(o.Network))
	} else if o.Proxy != nil {
		u.Verbosef(1, "connected to %s through proxy %s in %s", o.Target.HostPort(), peerName(conn), roundDuration(took))
	} else {
		u.Verbosef(1, "connected to %s (%s) in %s", peerName(conn), describeNetwork(o.Network), roundDuration(took))
	}
	u.Verbosef(2, "local address %s", conn.LocalAddr())
	if conn, err = clientTLS(ctx, conn, o); err != nil {
		if isInterrupted(err) {
			u.Verbosef(1, "%s", (&stats{started: start}).summary())
		}
		return err
	}
	if o.OnReady != nil {
		o.OnReady(conn.LocalAddr())
	}

	st := stats{started: time.Now()}
	if o.Network == "udp" || o.Network == "unixgram" {
		st.sent, st.received, err = runDatagramConnect(ctx, conn, o)
	} else {
		var hex *transport.HexStream
		if o.Hex != nil {
			hex = o.Hex.Stream(1, false, fmt.Sprintf("connected %s to %s", conn.LocalAddr(), peerName(conn)))
		}
		st.sent, st.received, err = runSession(ctx, conn, o, hex)
	}
	return endSession(o, &st, err)
}
