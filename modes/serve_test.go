package modes

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"
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
