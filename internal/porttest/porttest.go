// Package porttest provides loopback peers in each state a probe can
// find a port in, for the tests of scan, wait and ping: a listener, a
// port just closed, a listener whose accept queue is full (it answers no
// SYN: filtered), and UDP echo servers that may drop, duplicate or
// reorder. Every peer listens on 127.0.0.1 only, on a port the kernel
// chose, and is closed (its goroutines gone) when the test ends. It also
// gives Unix socket tests a directory short enough for socket paths.
package porttest

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// Listen returns a TCP listener on 127.0.0.1, on a port the kernel chose,
// closed when the test ends; the test accepts on it.
func Listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// Listener returns the address of a TCP listener that accepts and closes
// every connection.
func Listener(t testing.TB) netip.AddrPort {
	t.Helper()
	return ListenerAt(t, "127.0.0.1:0")
}

// ListenerAt is Listener on a given address (a faultnet side, a port
// chosen beforehand).
func ListenerAt(t testing.TB, addr string) netip.AddrPort {
	t.Helper()
	return Serve(t, addr, func(net.Conn) {})
}

// Serve listens on addr (TCP) until the test ends and hands each
// connection to handle, in a goroutine of its own. A connection is closed
// when its handler returns, and at the end of the test at the latest,
// which ends a handler still blocked on it; the cleanup waits for every
// handler.
func Serve(t testing.TB, addr string, handle func(net.Conn)) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns = make(map[net.Conn]bool)
		ended bool
	)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			if ended {
				mu.Unlock()
				c.Close()
				continue
			}
			conns[c] = true
			mu.Unlock()
			wg.Go(func() {
				defer func() {
					mu.Lock()
					delete(conns, c)
					mu.Unlock()
					c.Close()
				}()
				handle(c)
			})
		}
	})
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		ended = true
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().(*net.TCPAddr).AddrPort()
}

// ServeOne hands the first client of ln to handle, closes the connection
// when handle returns, and reports handle's error (or Accept's) on the
// channel, so that a test can tell how its peer fared. The connection's
// deadline only guards against a hang.
func ServeOne(ln net.Listener, handle func(net.Conn) error) <-chan error {
	served := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			served <- err
			return
		}
		c.SetDeadline(time.Now().Add(30 * time.Second))
		err = handle(c)
		c.Close()
		served <- err
	}()
	return served
}

// ClosedPort returns a loopback port that nothing listens on, for TCP and
// UDP: one the kernel just handed out and that was released at once.
func ClosedPort(t testing.TB) netip.AddrPort {
	t.Helper()
	for range 50 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ap := ln.Addr().(*net.TCPAddr).AddrPort()
		ln.Close()
		pc, err := net.ListenPacket("udp", ap.String())
		if err != nil {
			continue // taken for UDP: try another
		}
		pc.Close()
		return ap
	}
	t.Fatal("no port free for both TCP and UDP")
	return netip.AddrPort{}
}

// UDPEcho returns the address of a UDP server that answers the nth
// datagram (counting from 1) with what reply returns: nothing drops it,
// two copies duplicate it, and a reply may release earlier held ones.
// reply runs on one goroutine, in arrival order. A nil reply echoes.
func UDPEcho(t testing.TB, reply func(n int, p []byte) [][]byte) netip.AddrPort {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if reply == nil {
		reply = func(_ int, p []byte) [][]byte { return [][]byte{p} }
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 65536)
		for n := 1; ; n++ {
			size, from, err := pc.ReadFrom(buf)
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if err != nil {
				continue
			}
			for _, out := range reply(n, append([]byte(nil), buf[:size]...)) {
				pc.WriteTo(out, from)
			}
		}
	}()
	t.Cleanup(func() {
		pc.Close()
		<-done
	})
	return pc.LocalAddr().(*net.UDPAddr).AddrPort()
}

// SilentUDP returns the address of a UDP socket that reads nothing and
// answers nothing: an open port that ignores probes.
func SilentUDP(t testing.TB) netip.AddrPort {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc.LocalAddr().(*net.UDPAddr).AddrPort()
}
