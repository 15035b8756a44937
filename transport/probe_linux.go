package transport

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"time"
)

// startTCP is the Linux probe: a non-blocking socket of its own, so that a
// connect the kernel completes at once (loopback: a refusal within the
// connect call, a handshake by the time it returns) costs a few system
// calls and never touches the network poller. Only a connect still in
// progress is left to wait, which hands it to the poller with the timeout
// as its deadline. Timing starts just before connect(2) and stops when the
// outcome is seen.
func startTCP(ctx context.Context, addr netip.AddrPort, o ProbeOptions, s *ProbeSockets) (ProbeResult, func() (ProbeResult, error), error) {
	family, fam := syscall.AF_INET, 0
	if addr.Addr().Is6() {
		family, fam = syscall.AF_INET6, 1
	}
	sa := sockaddr(addr)
	var fd int
	reused := s != nil && s.kept[fam]
	if reused {
		fd, s.kept[fam] = s.fd[fam], false
	} else {
		var err error
		fd, err = syscall.Socket(family, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			return ProbeResult{}, nil, os.NewSyscallError("socket", err)
		}
		if o.Source.IsValid() {
			if err := syscall.Bind(fd, sockaddr(netip.AddrPortFrom(o.Source, 0))); err != nil {
				syscall.Close(fd)
				// As net.Dialer reports it, so that the source is blamed.
				return ProbeResult{}, nil, &net.OpError{Op: "dial", Net: "tcp",
					Source: net.TCPAddrFromAddrPort(netip.AddrPortFrom(o.Source, 0)),
					Addr:   net.TCPAddrFromAddrPort(addr), Err: os.NewSyscallError("bind", err)}
			}
		}
	}
	start := time.Now()
	err := syscall.Connect(fd, sa)
	if reused && (err == syscall.EISCONN || err == syscall.EALREADY || err == syscall.EINVAL) {
		// Not the state a refused socket is left in: start afresh.
		syscall.Close(fd)
		return startTCP(ctx, addr, o, nil)
	}
	if err == syscall.EINPROGRESS {
		// In progress. On loopback the handshake has usually finished by
		// now (the kernel ran it when connect(2) released the socket): a
		// second connect says how, before the poller, whose setup would
		// count in the time, is needed. It returns 0 once connected, the
		// error when refused (leaving the socket ready to connect again),
		// and EALREADY while the handshake goes on.
		err = syscall.Connect(fd, sa)
		if err == syscall.EALREADY || err == syscall.EINPROGRESS || err == syscall.EINTR {
			return ProbeResult{}, func() (ProbeResult, error) { return waitConnect(ctx, fd, addr, start, o) }, nil
		}
		if err == syscall.EISCONN {
			err = nil
		}
	}
	rtt := time.Since(start)
	if err == nil {
		defer syscall.Close(fd)
		return connected(fd, rtt), nil, nil
	}
	if err == syscall.ECONNREFUSED && s != nil && !o.Source.IsValid() {
		s.fd[fam], s.kept[fam] = fd, true
	} else {
		defer syscall.Close(fd)
	}
	res, err := classifyConnect(os.NewSyscallError("connect", err), rtt, o.Timeout)
	return res, nil, err
}

// Close releases the sockets s keeps.
func (s *ProbeSockets) Close() {
	for fam := range s.fd {
		if s.kept[fam] {
			syscall.Close(s.fd[fam])
			s.kept[fam] = false
		}
	}
}

// waitConnect waits for a connect in progress on fd to finish, as the net
// package does: until the socket is writable, then SO_ERROR tells how.
func waitConnect(ctx context.Context, fd int, addr netip.AddrPort, start time.Time, o ProbeOptions) (ProbeResult, error) {
	f := os.NewFile(uintptr(fd), "probe "+addr.String()) // owns fd from now on
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return ProbeResult{}, err
	}
	f.SetWriteDeadline(start.Add(o.Timeout))
	if testHookProbeWait != nil {
		testHookProbeWait(fd, start.Add(o.Timeout))
	}
	stop := context.AfterFunc(ctx, func() { f.SetWriteDeadline(time.Unix(1, 0)) })
	defer stop()
	var connErr error
	done := false
	look := func(fd uintptr) bool {
		done, connErr = connectDone(int(fd))
		return done
	}
	werr := rc.Write(look)
	if errors.Is(werr, os.ErrDeadlineExceeded) && context.Cause(ctx) == nil {
		// One last look: a handshake (or refusal) that came in time may
		// not have been seen yet when this goroutine ran late (a loaded
		// machine), and it must not pass for silence.
		if cerr := rc.Control(func(fd uintptr) { look(fd) }); cerr == nil && done {
			werr = nil
		}
	}
	rtt := time.Since(start)
	if werr != nil {
		if cause := context.Cause(ctx); cause != nil {
			return ProbeResult{}, cause
		}
		return classifyConnect(werr, rtt, o.Timeout)
	}
	if connErr != nil {
		return classifyConnect(connErr, rtt, o.Timeout)
	}
	var res ProbeResult
	rc.Control(func(fd uintptr) { res = connected(int(fd), rtt) })
	return res, nil
}

// connectDone tells whether a non-blocking connect has finished, and how.
// The poller can wake us spuriously: a zero SO_ERROR counts only once the
// socket has a peer.
func connectDone(fd int) (bool, error) {
	e, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_ERROR)
	if err != nil {
		return true, os.NewSyscallError("getsockopt", err)
	}
	switch errno := syscall.Errno(e); errno {
	case syscall.EINPROGRESS, syscall.EALREADY, syscall.EINTR:
		return false, nil
	case 0, syscall.EISCONN:
		if _, err := syscall.Getpeername(fd); err != nil {
			return false, nil
		}
		return true, nil
	default:
		return true, os.NewSyscallError("connect", errno)
	}
}

// connected classifies an established connection on fd: open, unless it
// is connected to itself.
func connected(fd int, rtt time.Duration) ProbeResult {
	local, lerr := syscall.Getsockname(fd)
	peer, perr := syscall.Getpeername(fd)
	if lerr == nil && perr == nil && sameSockaddr(local, peer) {
		// Reset instead of closing gracefully: a self-connection would
		// otherwise sit in TIME_WAIT on the very port being probed.
		syscall.SetsockoptLinger(fd, syscall.SOL_SOCKET, syscall.SO_LINGER, &syscall.Linger{Onoff: 1, Linger: 0})
		return ProbeResult{State: Closed, RTT: rtt, Why: whySelfConnect}
	}
	return ProbeResult{State: Open, RTT: rtt}
}

func sameSockaddr(a, b syscall.Sockaddr) bool {
	switch a := a.(type) {
	case *syscall.SockaddrInet4:
		b, ok := b.(*syscall.SockaddrInet4)
		return ok && a.Port == b.Port && a.Addr == b.Addr
	case *syscall.SockaddrInet6:
		b, ok := b.(*syscall.SockaddrInet6)
		return ok && a.Port == b.Port && a.Addr == b.Addr && a.ZoneId == b.ZoneId
	}
	return false
}

func sockaddr(ap netip.AddrPort) syscall.Sockaddr {
	a := ap.Addr()
	if a.Is4() {
		return &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: a.As4()}
	}
	return &syscall.SockaddrInet6{Port: int(ap.Port()), Addr: a.As16(), ZoneId: zoneIndex(a.Zone())}
}

// zoneIndex turns an IPv6 zone ("eth0" or "2") into an interface index.
func zoneIndex(zone string) uint32 {
	if zone == "" {
		return 0
	}
	if n, err := strconv.ParseUint(zone, 10, 32); err == nil {
		return uint32(n)
	}
	if ifi, err := net.InterfaceByName(zone); err == nil {
		return uint32(ifi.Index)
	}
	return 0
}
