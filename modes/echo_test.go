package modes

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

// startEcho runs the echo server on 127.0.0.1:0 and returns its address;
// the server is stopped, and checked to have stopped, at cleanup.
func startEcho(t *testing.T, network string, tweak func(*EchoOptions)) (net.Addr, *bytes.Buffer) {
	t.Helper()
	var stderr syncBuffer
	o := &EchoOptions{}
	o.Network = network
	o.Listen = transport.Endpoint{Host: "127.0.0.1"}
	o.UI = ui.New(&stderr, 1)
	ready := make(chan net.Addr, 1)
	o.OnReady = func(a net.Addr) { ready <- a }
	tweaked(o, tweak)
	addr, _ := startServer(t, "echo server", ready, func(ctx context.Context) error { return Echo(ctx, o) })
	return addr, &stderr.Buffer
}

type syncBuffer struct {
	mu sync.Mutex
	bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.Write(p)
}

// Every byte comes back, in order, including what was still in flight
// when the client half-closed; many clients at once.
func TestEchoManyClientsHalfClose(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) }) // runs last, after the server stopped
	addr, _ := startEcho(t, "tcp", nil)
	const clients = 200
	errs := make(chan error, clients)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			payload := make([]byte, 1+rng.IntN(256<<10))
			for j := range payload {
				payload[j] = byte(rng.IntN(256))
			}
			c, err := net.Dial("tcp", addr.String())
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(60 * time.Second))
			got := make(chan []byte, 1)
			go func() {
				b, _ := io.ReadAll(c)
				got <- b
			}()
			if _, err := c.Write(payload); err != nil {
				errs <- err
				return
			}
			c.(*net.TCPConn).CloseWrite()
			if b := <-got; !bytes.Equal(b, payload) {
				errs <- errors.New("echo differs from what was sent")
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestEchoUDPKeepsBoundaries(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) }) // runs last, after the server stopped
	addr, _ := startEcho(t, "udp", nil)
	c, err := net.Dial("udp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 70000)
	for _, size := range []int{1, 512, 1472, 9000, 65507} {
		p := bytes.Repeat([]byte{byte(size)}, size)
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write(p); err != nil {
			t.Fatal(err)
		}
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if !bytes.Equal(buf[:n], p) {
			t.Errorf("size %d: got %d bytes back", size, n)
		}
	}
}

func TestEchoMaxConnsRefusesAtOnce(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) }) // runs last, after the server stopped
	addr, stderr := startEcho(t, "tcp", func(o *EchoOptions) { o.MaxConns = 1 })
	first := dialServer(t, addr.String())
	// A round trip proves the first client is being served.
	if _, err := first.Write([]byte("a")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(first, make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	expectReset(t, addr) // the second client
	// The first one is still served.
	if _, err := first.Write([]byte("c")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(first, make([]byte, 1)); err != nil {
		t.Fatalf("first client after the refusal: %v", err)
	}
	first.Close()
	_ = stderr
}

// An idle client is closed after --idle-timeout, and never blocks a new one.
func TestEchoIdleTimeout(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) }) // runs last, after the server stopped
	addr, _ := startEcho(t, "tcp", func(o *EchoOptions) { o.IdleTimeout = time.Second })
	idle := dialServer(t, addr.String())
	busy := dialServer(t, addr.String())
	if _, err := busy.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(busy, make([]byte, 4)); err != nil {
		t.Fatalf("a second client was not served while the first idled: %v", err)
	}
	idle.SetDeadline(time.Now().Add(10 * time.Second))
	if n, err := idle.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("idle client: got %d, %v; want EOF from the idle timeout", n, err)
	}
}

// --delay holds each echo back, but loses and reorders nothing.
func TestEchoDelayKeepsOrder(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) }) // runs last, after the server stopped
	addr, _ := startEcho(t, "tcp", func(o *EchoOptions) { o.Delay = 5 * time.Millisecond })
	c := dialServer(t, addr.String())
	var want bytes.Buffer
	for i := range 20 {
		p := []byte{byte(i), byte(i), byte(i)}
		want.Write(p)
		if _, err := c.Write(p); err != nil {
			t.Fatal(err)
		}
	}
	c.(*net.TCPConn).CloseWrite()
	got, err := io.ReadAll(c)
	if err != nil || !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("got %v (%v), want %v", got, err, want.Bytes())
	}
}
