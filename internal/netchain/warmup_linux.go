package netchain

import (
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// warmUp waits until the client reaches the server over both families
// (a connect to a closed port is refused): then every neighbour on the
// way, both ways, is resolved, and the first probes of a test are not
// lost to address resolution.
func (c *Chain) warmUp() error {
	for _, dst := range []string{Server4, Server6} {
		if err := c.Do(c.Client, func() error { return untilRefused(net.JoinHostPort(dst, "9")) }); err != nil {
			return err
		}
	}
	return nil
}

func untilRefused(addr string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			conn.Close()
			return nil
		}
		if errors.Is(err, syscall.ECONNREFUSED) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("netchain: %s does not answer the client: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond) // a bounded poll: the links are coming up
	}
}

// Do runs f in network namespace ns (one of the chain's), on a thread
// of its own: the sockets f opens, on the calling goroutine, belong to
// ns, and keep to it wherever they are used afterwards. The thread goes
// back to its namespace afterwards: it may be the main thread, whose
// namespace /proc/self/net shows the whole process.
func (c *Chain) Do(ns string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		home, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer home.Close()
		target, err := os.Open("/run/netns/" + ns)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		err = f()
		// A thread that cannot go home stays locked, and so ends with
		// the goroutine (or, the main thread, is never used again).
		if unix.Setns(int(home.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		errc <- err
	}()
	return <-errc
}
