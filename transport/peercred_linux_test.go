package transport

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// acceptedPair returns the server side of a connection this process made
// to a listener on network and addr, for PermitsConn to judge.
func acceptedPair(t *testing.T, network, addr string) net.Conn {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	client, err := net.Dial(network, ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close() })
	return server
}

// --allow-uid serves a Unix client whose kernel-recorded user is listed,
// refuses one whose user is not, and leaves TCP clients to --allow.
func TestPermitsConnUID(t *testing.T) {
	unixConn := acceptedPair(t, "unix", filepath.Join(t.TempDir(), "s.sock"))
	tcpConn := acceptedPair(t, "tcp", "127.0.0.1:0")
	me := uint32(os.Getuid())

	uid, err := PeerUID(unixConn)
	if err != nil || uid != me {
		t.Fatalf("PeerUID = %d, %v; want %d", uid, err, me)
	}
	var none *AccessList
	if ok, why := none.WithUIDs([]uint32{me + 1, me}).PermitsConn(unixConn); !ok {
		t.Errorf("uid %d listed, refused: %s", me, why)
	}
	ok, why := none.WithUIDs([]uint32{me + 1}).PermitsConn(unixConn)
	if ok || !strings.Contains(why, "matches no --allow-uid") {
		t.Errorf("uid %d not listed: PermitsConn = %v, %q; want a refusal naming --allow-uid", me, ok, why)
	}
	if ok, why := none.WithUIDs([]uint32{me + 1}).PermitsConn(tcpConn); !ok {
		t.Errorf("a TCP client was refused by --allow-uid: %s", why)
	}
}
