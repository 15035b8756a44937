package transport

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// CheckTrace tells whether trace probes of network ("tcp" or "udp") can
// be made here. Linux queues the ICMP errors of a UDP socket for any
// user; those of a TCP connect only since 5.8.
func CheckTrace(network string) error {
	if network != "tcp" {
		return nil
	}
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return nil // cannot tell: try
	}
	if release := unix.ByteSliceToString(u.Release[:]); !kernelAtLeast(release, 5, 8) {
		return fmt.Errorf("trace over TCP needs Linux 5.8 or later, which reports the ICMP errors of a connect (this is %s): trace with -u instead", release)
	}
	return nil
}

// kernelAtLeast tells whether a kernel release ("6.1.0-18-amd64") is
// major.minor or later; a release it cannot read passes.
func kernelAtLeast(release string, major, minor int) bool {
	parts := strings.SplitN(release, ".", 3)
	if len(parts) < 2 {
		return true
	}
	maj, err1 := strconv.Atoi(parts[0])
	min, err2 := strconv.Atoi(strings.TrimRightFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	if err1 != nil || err2 != nil {
		return true
	}
	return maj > major || maj == major && min >= minor
}

// TraceProbe sends one probe to dst with TTL o.TTL: a TCP SYN (a
// non-blocking connect) or an empty UDP datagram, on an ordinary socket
// with IP_RECVERR (IPV6_RECVERR) set, so that the ICMP error a router
// sends back is queued on the socket, with its sender, for this
// unprivileged process to read. The error is non-nil only when the probe
// could not be made (ctx ended, no descriptors left); it is then a
// *DialError or the cause of ctx.
func TraceProbe(ctx context.Context, network string, dst netip.AddrPort, o TraceProbeOptions) (TraceResult, error) {
	if err := context.Cause(ctx); err != nil {
		return TraceResult{}, err
	}
	res, err := traceProbe(ctx, network, dst, o)
	if err != nil {
		return TraceResult{}, probeError(ctx, network, dst, ProbeOptions{Source: o.Source, Timeout: o.Timeout}, err)
	}
	return res, nil
}

func traceProbe(ctx context.Context, network string, dst netip.AddrPort, o TraceProbeOptions) (TraceResult, error) {
	family, level, ttlOpt, errOpt := syscall.AF_INET, syscall.IPPROTO_IP, syscall.IP_TTL, syscall.IP_RECVERR
	if dst.Addr().Is6() && !dst.Addr().Is4In6() {
		family, level, ttlOpt, errOpt = syscall.AF_INET6, syscall.IPPROTO_IPV6, syscall.IPV6_UNICAST_HOPS, syscall.IPV6_RECVERR
	}
	tcp := network == "tcp"
	typ := syscall.SOCK_DGRAM
	if tcp {
		typ = syscall.SOCK_STREAM
	}
	fd, err := syscall.Socket(family, typ|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return TraceResult{}, os.NewSyscallError("socket", err)
	}
	f := os.NewFile(uintptr(fd), "trace probe "+dst.String()) // owns fd from now on
	defer f.Close()
	if err := syscall.SetsockoptInt(fd, level, ttlOpt, o.TTL); err != nil {
		return TraceResult{}, os.NewSyscallError("setsockopt TTL", err)
	}
	if err := syscall.SetsockoptInt(fd, level, errOpt, 1); err != nil {
		return TraceResult{}, fmt.Errorf("%w: %v", ErrTraceUnsupported, os.NewSyscallError("setsockopt IP_RECVERR", err))
	}
	// The kernel stamps each ICMP error with the time it arrived, so the
	// round trip does not include how long this goroutine waited to run.
	// (Linux turns its receive stamps on shortly after the first socket
	// asks: the first probes may go without, and are timed as read.)
	_ = syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
	if o.Source.IsValid() {
		if err := syscall.Bind(fd, sockaddr(netip.AddrPortFrom(o.Source, 0))); err != nil {
			return TraceResult{}, os.NewSyscallError("bind", err)
		}
	}

	start := time.Now()
	err = syscall.Connect(fd, sockaddr(dst))
	switch {
	case tcp && err == nil: // the kernel finished the handshake at once (loopback)
		return TraceResult{Answer: TraceOpen, From: dst.Addr(), RTT: time.Since(start)}, nil
	case tcp && (err == syscall.ECONNREFUSED || err == syscall.ECONNRESET):
		return TraceResult{Answer: TraceClosed, From: dst.Addr(), RTT: time.Since(start)}, nil
	case tcp && err != syscall.EINPROGRESS, !tcp && err != nil:
		return TraceResult{}, os.NewSyscallError("connect", err)
	case !tcp:
		start = time.Now()
		if _, err := syscall.SendmsgN(fd, udpProbePayload, nil, nil, 0); err != nil {
			return TraceResult{}, os.NewSyscallError("send", err)
		}
	}

	rc, err := f.SyscallConn()
	if err != nil {
		return TraceResult{}, err
	}
	f.SetDeadline(start.Add(o.Timeout))
	if testHookTraceWait != nil {
		testHookTraceWait(fd, start.Add(o.Timeout))
	}
	stop := context.AfterFunc(ctx, func() { f.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	var (
		res     TraceResult
		done    bool
		noteErr error
	)
	look := func(fd uintptr) bool {
		res, done, noteErr = traceAnswer(int(fd), tcp, dst.Addr())
		return done
	}
	// A queued ICMP error raises POLLERR, which wakes readers and writers
	// alike; a handshake wakes writers, a UDP reply readers.
	if tcp {
		err = rc.Write(look)
	} else {
		err = rc.Read(look)
	}
	rtt := time.Since(start)
	if errors.Is(err, os.ErrDeadlineExceeded) && context.Cause(ctx) == nil {
		// One last look: an answer that came in time may still be
		// queued when this goroutine ran late (a loaded machine), and
		// it must not turn the hop silent.
		if cerr := rc.Control(func(fd uintptr) { look(fd) }); cerr == nil && (done || noteErr != nil) {
			err = nil
		}
	}
	switch {
	case err != nil && context.Cause(ctx) != nil:
		return TraceResult{}, context.Cause(ctx)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return TraceResult{Answer: TraceSilent}, nil
	case err != nil:
		return TraceResult{}, err
	case noteErr != nil:
		return TraceResult{}, noteErr
	}
	res.RTT = rtt
	if !res.at.IsZero() {
		// The kernel's arrival stamp is a wall-clock time: measure from
		// the wall-clock reading of start, and keep the stamp only when
		// it is plausible (a clock step makes it nonsense).
		if stamped := res.at.Sub(start.Round(0)); stamped > 0 && stamped <= rtt {
			res.RTT = stamped
		}
		res.at = time.Time{}
	}
	return res, nil
}

// testHookTraceWait, when set by a test, runs between sending a probe
// and waiting for its answer, with the probe's socket and deadline.
var testHookTraceWait func(fd int, deadline time.Time)

// traceAnswer looks at a probe's socket once it is woken: the error
// queue first, where the ICMP errors are, then the handshake (TCP) or a
// reply (UDP). done is false while there is nothing to see yet.
func traceAnswer(fd int, tcp bool, dst netip.Addr) (res TraceResult, done bool, err error) {
	if res, ok, err := readErrQueue(fd); ok || err != nil {
		return res, true, err
	}
	if tcp {
		finished, connErr := connectDone(fd)
		switch {
		case !finished:
			return res, false, nil
		case connErr == nil:
			return TraceResult{Answer: TraceOpen, From: dst}, true, nil
		case errors.Is(connErr, syscall.ECONNREFUSED), errors.Is(connErr, syscall.ECONNRESET):
			return TraceResult{Answer: TraceClosed, From: dst}, true, nil
		}
		return res, true, connErr
	}
	var buf [1]byte
	_, _, rerr := syscall.Recvfrom(fd, buf[:], syscall.MSG_DONTWAIT|syscall.MSG_TRUNC)
	switch {
	case rerr == nil:
		return TraceResult{Answer: TraceOpen, From: dst}, true, nil
	case rerr == syscall.EAGAIN:
		return res, false, nil
	}
	return res, true, os.NewSyscallError("recv", rerr)
}

// readErrQueue takes one error from the socket's error queue. ok is
// false when the queue holds no ICMP error; err is set for an error of
// the local stack (the datagram could not even leave).
func readErrQueue(fd int) (res TraceResult, ok bool, err error) {
	var buf [64]byte
	var oob [512]byte
	_, oobn, _, _, rerr := syscall.Recvmsg(fd, buf[:], oob[:], syscall.MSG_ERRQUEUE|syscall.MSG_DONTWAIT)
	if rerr != nil {
		return res, false, nil // EAGAIN: the queue is empty
	}
	msgs, perr := syscall.ParseSocketControlMessage(oob[:oobn])
	if perr != nil {
		return res, false, nil
	}
	var at time.Time
	for _, m := range msgs {
		if m.Header.Level == syscall.SOL_SOCKET && m.Header.Type == unix.SCM_TIMESTAMPNS {
			at = parseTimespec(m.Data)
		}
	}
	for _, m := range msgs {
		if !(m.Header.Level == syscall.IPPROTO_IP && m.Header.Type == syscall.IP_RECVERR ||
			m.Header.Level == syscall.IPPROTO_IPV6 && m.Header.Type == syscall.IPV6_RECVERR) {
			continue
		}
		ee, from, valid := parseExtendedErr(m.Data)
		if !valid {
			continue
		}
		switch ee.Origin {
		case unix.SO_EE_ORIGIN_ICMP, unix.SO_EE_ORIGIN_ICMP6:
			return TraceResult{Answer: TraceICMP, From: from, at: at,
				ICMP: ICMPMessage{V6: ee.Origin == unix.SO_EE_ORIGIN_ICMP6, Type: ee.Type, Code: ee.Code}}, true, nil
		case unix.SO_EE_ORIGIN_LOCAL:
			return res, false, os.NewSyscallError("send", syscall.Errno(ee.Errno))
		}
	}
	return res, false, nil
}

// sockExtendedErrSize is the size of struct sock_extended_err, after
// which the kernel puts the offender's address (SO_EE_OFFENDER).
const sockExtendedErrSize = 16

// anyFamily is the kernel's "unspecified" address family: the family of
// the offender's sockaddr when the kernel does not know who sent an error.
const anyFamily = 0

// parseExtendedErr reads the data of an IP_RECVERR (IPV6_RECVERR)
// control message: struct sock_extended_err, then the sockaddr of the
// host that sent the error (of family anyFamily when unknown).
func parseExtendedErr(b []byte) (ee unix.SockExtendedErr, from netip.Addr, ok bool) {
	if len(b) < sockExtendedErrSize {
		return ee, from, false
	}
	ne := binary.NativeEndian
	ee = unix.SockExtendedErr{Errno: ne.Uint32(b[0:]), Origin: b[4], Type: b[5], Code: b[6], Pad: b[7],
		Info: ne.Uint32(b[8:]), Data: ne.Uint32(b[12:])}
	sa := b[sockExtendedErrSize:]
	if len(sa) < 2 {
		return ee, from, true
	}
	switch ne.Uint16(sa) {
	case anyFamily:
		// no offender: the error without a sender
	case syscall.AF_INET:
		if len(sa) >= 8 {
			from = netip.AddrFrom4([4]byte(sa[4:8]))
		}
	case syscall.AF_INET6:
		if len(sa) >= 24 {
			from = netip.AddrFrom16([16]byte(sa[8:24]))
		}
	}
	return ee, from, true
}

// parseTimespec reads the data of an SCM_TIMESTAMPNS control message: a
// struct timespec of two longs, 16 bytes on 64-bit systems and 8 on
// 32-bit ones. It is the zero time when the data has neither size.
func parseTimespec(b []byte) time.Time {
	ne := binary.NativeEndian
	switch len(b) {
	case 16:
		return time.Unix(int64(ne.Uint64(b)), int64(ne.Uint64(b[8:])))
	case 8:
		return time.Unix(int64(int32(ne.Uint32(b))), int64(int32(ne.Uint32(b[4:]))))
	}
	return time.Time{}
}
