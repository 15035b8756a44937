package transport

// The source side of a connect (-s, -p): when binding it fails, nothing
// was sent, so no message may blame the network or a firewall.

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
)

// SourceError reports a source address or port (-s, -p) that could not be
// bound before connecting.
type SourceError struct {
	Network  string
	Addr     netip.AddrPort // the source asked for; its address is not valid without -s
	Err      error
	Holder   *Holder // who holds the port, when the OS lets us see it
	TimeWait bool    // only connections in TIME_WAIT hold the port
}

func (e *SourceError) Error() string {
	return fmt.Sprintf("cannot bind source %s: %v", e.source(), rootCause(e.Err))
}

// source names what -s and -p asked for.
func (e *SourceError) source() string {
	switch {
	case !e.Addr.Addr().IsValid():
		return fmt.Sprintf("port %d", e.Addr.Port())
	case e.Addr.Port() == 0:
		return "address " + e.Addr.Addr().String()
	}
	return "address " + e.Addr.String()
}

func (e *SourceError) Unwrap() error { return e.Err }

// sourceFailure returns err as a *SourceError when it is the bind of the
// source address failing, as net.Dialer reports it (a "bind" system call
// under a "dial" *net.OpError naming the source); else nil.
func sourceFailure(network string, err error) *SourceError {
	var (
		op *net.OpError
		sc *os.SyscallError
	)
	if !errors.As(err, &op) || op.Op != "dial" || op.Source == nil || !errors.As(err, &sc) || sc.Syscall != "bind" {
		return nil
	}
	var ap netip.AddrPort
	switch a := op.Source.(type) {
	case *net.TCPAddr:
		ap = a.AddrPort()
	case *net.UDPAddr:
		ap = a.AddrPort()
	default:
		return nil
	}
	se := &SourceError{Network: network, Addr: ap, Err: err}
	if errors.Is(err, syscall.EADDRINUSE) {
		se.TimeWait = portInTimeWaitOnly(network, int(ap.Port()))
		if !se.TimeWait {
			se.Holder = FindPortHolder(network, int(ap.Port()))
		}
	}
	return se
}

// sourceReason words a source that could not be bound.
func sourceReason(e *SourceError) (why, hint string) {
	port := e.Addr.Port()
	switch {
	case errors.Is(e.Err, syscall.EADDRINUSE) && e.TimeWait:
		return fmt.Sprintf("source port %d is still in TIME_WAIT from a connection that just closed", port),
			"the system frees it within a minute: wait, choose another port with -p, or drop -p"
	case errors.Is(e.Err, syscall.EADDRINUSE) && e.Holder != nil:
		return fmt.Sprintf("source port %d is in use", port),
			fmt.Sprintf("held by %s; choose another port with -p, or drop -p to let the system choose", e.Holder)
	case errors.Is(e.Err, syscall.EADDRINUSE):
		return fmt.Sprintf("source port %d is in use", port),
			"another socket has it; choose another port with -p, or drop -p to let the system choose"
	case (errors.Is(e.Err, syscall.EACCES) || errors.Is(e.Err, syscall.EPERM)) && port > 0 && port < 1024:
		return fmt.Sprintf("cannot use source port %d: ports below 1024 need root or CAP_NET_BIND_SERVICE", port),
			"choose a source port above 1023 with -p, or drop -p"
	case errors.Is(e.Err, syscall.EADDRNOTAVAIL):
		return fmt.Sprintf("cannot use source address %s: it belongs to no interface of this machine", e.Addr.Addr()),
			"list this machine's addresses with `ip addr`, or drop -s"
	}
	return fmt.Sprintf("cannot use source %s: %v", e.source(), rootCause(e.Err)), "check -s and -p, or drop them"
}

// CheckSource binds a socket of network to src (any port) and closes it:
// a mode that probes many times can so say once, before the first
// probe, that -s names an address this machine cannot use.
func CheckSource(network string, src netip.Addr) error {
	ap := netip.AddrPortFrom(src, 0)
	ln, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(ap))
	if err == nil {
		ln.Close()
		return nil
	}
	var sc *os.SyscallError
	if !errors.As(err, &sc) {
		return err
	}
	opErr := &net.OpError{Op: "dial", Net: network, Source: net.UDPAddrFromAddrPort(ap), Err: sc}
	if se := sourceFailure(network, opErr); se != nil {
		return se
	}
	return err
}
