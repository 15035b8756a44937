package modes

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

// startServer runs serve, a mode that serves until interrupted (echo,
// relay, listen -k), in a goroutine, and returns once ready (fed by the
// mode's OnReady) gives its address. stop interrupts it and checks that
// it ended with the interruption; it runs at cleanup if the test did not
// call it.
func startServer(t *testing.T, name string, ready <-chan net.Addr, serve func(ctx context.Context) error) (addr net.Addr, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancelCause(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx) }()
	select {
	case addr = <-ready:
	case err := <-done:
		cancel(nil)
		t.Fatalf("%s ended early: %v", name, err)
	case <-time.After(10 * time.Second):
		cancel(nil)
		t.Fatalf("%s never became ready", name)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel(&Interrupted{Signal: "interrupt"})
			select {
			case err := <-done:
				var intr *Interrupted
				if !errors.As(err, &intr) {
					t.Errorf("%s returned %v, want the interruption", name, err)
				}
			case <-time.After(10 * time.Second):
				t.Errorf("%s did not stop after cancel", name)
			}
		})
	}
	t.Cleanup(stop)
	return addr, stop
}

// dialServer connects a TCP client to addr, a server the test started;
// the client is closed when the test ends, and its deadline only guards
// against a hang.
func dialServer(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(30 * time.Second))
	return c
}

// startListener runs listen mode (o.Keep for -k) on 127.0.0.1:0 at -v and
// returns its address and what it wrote on stderr; it is stopped, and
// checked to have stopped, at cleanup.
func startListener(t *testing.T, o *Options) (net.Addr, *syncBuffer) {
	t.Helper()
	var stderr syncBuffer
	o.Network = "tcp"
	o.Listen = transport.Endpoint{Host: "127.0.0.1"}
	o.UI = ui.New(writerOnly{&stderr}, 1)
	if o.Stdin == nil {
		o.Stdin = strings.NewReader("")
	}
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	ready := make(chan net.Addr, 1)
	o.OnReady = func(a net.Addr) { ready <- a }
	addr, _ := startServer(t, "listener", ready, func(ctx context.Context) error { return Listen(ctx, o) })
	return addr, &stderr
}
