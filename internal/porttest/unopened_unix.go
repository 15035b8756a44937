//go:build unix

package porttest

import (
	"net"
	"os"
	"sync"
	"syscall"
	"testing"
)

// UnopenedPort is a TCP port on 127.0.0.1 that the test holds, bound but
// not listening (connects are refused), until Listen opens it: a service
// that starts while a client waits for it. Holding the port the whole time
// means nothing else can take it in between.
type UnopenedPort struct {
	fd   int
	port int
	once sync.Once
}

// Unopened binds a port and does not listen on it yet.
func Unopened(t testing.TB) *UnopenedPort {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	syscall.CloseOnExec(fd)
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		syscall.Close(fd)
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		syscall.Close(fd)
		t.Fatal(err)
	}
	p := &UnopenedPort{fd: fd, port: sa.(*syscall.SockaddrInet4).Port}
	t.Cleanup(func() { p.once.Do(func() { syscall.Close(fd) }) })
	return p
}

// Port is the port number.
func (p *UnopenedPort) Port() int { return p.port }

// Listen opens the port: from now on it accepts (and closes) connections.
// It may be called from any goroutine; calls after the first do nothing.
func (p *UnopenedPort) Listen(t testing.TB) {
	p.once.Do(func() {
		if err := syscall.Listen(p.fd, 16); err != nil {
			t.Error(err)
			syscall.Close(p.fd)
			return
		}
		f := os.NewFile(uintptr(p.fd), "listener")
		ln, err := net.FileListener(f) // a duplicate of the descriptor
		f.Close()
		if err != nil {
			t.Error(err)
			return
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		t.Cleanup(func() {
			ln.Close()
			<-done
		})
	})
}
