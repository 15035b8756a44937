package porttest

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"syscall"
	"testing"
	"time"
)

// FullQueue returns the address of a TCP listener that answers no SYN:
// its accept queue (backlog 0: room for one connection) is full, and it
// never accepts. Linux drops a SYN for a full queue, so a connect gets no
// answer at all and times out, as behind a firewall that drops packets.
func FullQueue(t testing.TB) netip.AddrPort {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := netip.AddrPortFrom(netip.AddrFrom4(sa.(*syscall.SockaddrInet4).Addr), uint16(sa.(*syscall.SockaddrInet4).Port))
	// Fill the queue: connect until a connect is left unanswered. The
	// bound keeps a kernel that never drops from looping for ever.
	for range 8 {
		c, err := net.DialTimeout("tcp", addr.String(), 300*time.Millisecond)
		if err == nil {
			t.Cleanup(func() { c.Close() })
			continue
		}
		if errors.Is(err, os.ErrDeadlineExceeded) || isTimeout(err) {
			return addr
		}
		t.Fatalf("filling the accept queue of %s: %v", addr, err)
	}
	t.Fatalf("the accept queue of %s never filled: this kernel does not drop SYNs to a full queue", addr)
	return netip.AddrPort{}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
