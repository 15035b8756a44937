//go:build unix

package modes

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sondeproject/sonde/ui"
)

// fakeListener fails its accepts with the errors queued, then accepts
// one end of a pipe per call; it is never closed by the tests.
type fakeListener struct {
	errs []error
}

func (l *fakeListener) Accept() (net.Conn, error) {
	if len(l.errs) > 0 {
		err := l.errs[0]
		l.errs = l.errs[1:]
		return nil, err
	}
	c, peer := net.Pipe()
	peer.Close()
	return c, nil
}

func (l *fakeListener) Close() error   { return nil }
func (l *fakeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

func acceptError(errno syscall.Errno) error {
	return &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", errno)}
}

// Out of descriptors, the accept loop pauses and goes on. However many
// accepts fail in a spell, it warns once, and says how many failed when
// it accepts again; a spell soon after a warning is not warned about, its
// failures are counted in the next report.
func TestAcceptOutOfFilesGoesOn(t *testing.T) {
	for _, tc := range []struct {
		errno  syscall.Errno
		reason string
	}{
		{syscall.EMFILE, "too many open files"},
		{syscall.ENFILE, "too many open files in system"},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			var stderr strings.Builder
			ln := &fakeListener{}
			clock := newFakeClock()
			a := newAcceptor(ln, ui.New(&stderr, 0))
			a.warnings.Now = clock.now
			a.pauseMin, a.pauseMax = time.Microsecond, 4*time.Microsecond // speed only
			for _, spell := range []struct {
				after    time.Duration // since the previous spell
				failures int
			}{{0, 6}, {time.Second, 3}, {a.warnings.Interval, 2}} {
				clock.advance(spell.after)
				for range spell.failures {
					ln.errs = append(ln.errs, acceptError(tc.errno))
				}
				c, err := a.accept(context.Background())
				if err != nil {
					t.Fatalf("accept failed: %v", err)
				}
				c.Close()
			}
			warning := "sonde: warning: cannot accept clients: " + tc.reason + "; pausing, then trying again"
			want := warning + "\n" +
				"sonde: hint: each client holds a file descriptor: raise the limit (ulimit -n) or set --max-conns\n" +
				"sonde: accepting clients again (6 accepts failed: " + tc.reason + ")\n" +
				warning + " (3 accepts failed since the last report)\n" +
				"sonde: accepting clients again (2 accepts failed: " + tc.reason + ")\n"
			if stderr.String() != want {
				t.Errorf("stderr:\n%s\nwant:\n%s", stderr.String(), want)
			}
		})
	}
}

// An interruption ends the pause at once, and the accept returns; other
// errors are returned as they are.
func TestAcceptStops(t *testing.T) {
	var stderr strings.Builder
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ln := &fakeListener{errs: []error{acceptError(syscall.EMFILE)}}
	a := newAcceptor(ln, ui.New(writerFunc(func(p []byte) (int, error) {
		if strings.Contains(string(p), "warning") {
			cancel() // interrupted while paused
		}
		return stderr.Write(p)
	}), 0))
	a.pauseMin = time.Hour // only the interruption can end it
	if _, err := a.accept(ctx); !errors.Is(err, syscall.EMFILE) {
		t.Fatalf("accept returned %v, want the EMFILE it paused on", err)
	}
	if !strings.HasSuffix(stderr.String(), "sonde: 1 accept failed: too many open files\n") {
		t.Errorf("stderr lacks the count of failed accepts:\n%s", stderr.String())
	}

	ln.errs = []error{acceptError(syscall.EINVAL)}
	if _, err := a.accept(context.Background()); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("accept returned %v, want EINVAL", err)
	}
}
