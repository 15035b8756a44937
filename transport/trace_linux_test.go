package transport

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sondeproject/sonde/internal/netchain"
)

func TestKernelAtLeast(t *testing.T) {
	for _, tc := range []struct {
		release string
		want    bool
	}{
		{"5.8.0", true},
		{"5.7.19-generic", false},
		{"5.10.0-28-amd64", true},
		{"4.19.0", false},
		{"6.1.0-18-amd64", true},
		{"6.18.44-fc-v1252", true},
		{"5.8-rc1", true},
		{"5.4", false},
		{"unknown", true}, // cannot tell: try
	} {
		if got := kernelAtLeast(tc.release, 5, 8); got != tc.want {
			t.Errorf("kernelAtLeast(%q, 5, 8) = %v, want %v", tc.release, got, tc.want)
		}
	}
}

// extendedErr builds what the kernel writes after an IP_RECVERR control
// message header: struct sock_extended_err, then the offender's sockaddr.
func extendedErr(origin, typ, code uint8, offender []byte) []byte {
	b := make([]byte, sockExtendedErrSize)
	binary.NativeEndian.PutUint32(b, uint32(syscall.EHOSTUNREACH))
	b[4], b[5], b[6] = origin, typ, code
	return append(b, offender...)
}

func sockaddrBytes(a netip.Addr) []byte {
	if a.Is4() {
		b := make([]byte, 16)
		binary.NativeEndian.PutUint16(b, syscall.AF_INET)
		copy(b[4:], a.AsSlice())
		return b
	}
	b := make([]byte, 28)
	binary.NativeEndian.PutUint16(b, syscall.AF_INET6)
	copy(b[8:], a.AsSlice())
	return b
}

func TestParseExtendedErr(t *testing.T) {
	r4, r6 := netip.MustParseAddr("198.18.1.2"), netip.MustParseAddr("fd00:18:0:1::2")
	ee, from, ok := parseExtendedErr(extendedErr(unix.SO_EE_ORIGIN_ICMP, 3, 13, sockaddrBytes(r4)))
	if !ok || ee.Origin != unix.SO_EE_ORIGIN_ICMP || ee.Type != 3 || ee.Code != 13 || ee.Errno != uint32(syscall.EHOSTUNREACH) || from != r4 {
		t.Errorf("IPv4: %+v from %v (%v)", ee, from, ok)
	}
	ee, from, ok = parseExtendedErr(extendedErr(unix.SO_EE_ORIGIN_ICMP6, 3, 0, sockaddrBytes(r6)))
	if !ok || ee.Origin != unix.SO_EE_ORIGIN_ICMP6 || ee.Type != 3 || from != r6 {
		t.Errorf("IPv6: %+v from %v (%v)", ee, from, ok)
	}
	// No offender (anyFamily), or none at all: the error without a sender.
	unknown := make([]byte, 16)
	binary.NativeEndian.PutUint16(unknown, anyFamily)
	if _, from, ok = parseExtendedErr(extendedErr(unix.SO_EE_ORIGIN_LOCAL, 0, 0, unknown)); !ok || from.IsValid() {
		t.Errorf("unknown offender: from %v (%v)", from, ok)
	}
	if _, from, ok = parseExtendedErr(extendedErr(unix.SO_EE_ORIGIN_ICMP, 11, 0, nil)); !ok || from.IsValid() {
		t.Errorf("no offender: from %v (%v)", from, ok)
	}
	// Truncated: nothing.
	if _, _, ok = parseExtendedErr(make([]byte, sockExtendedErrSize-1)); ok {
		t.Error("a truncated sock_extended_err was read")
	}
	if _, from, _ = parseExtendedErr(extendedErr(unix.SO_EE_ORIGIN_ICMP, 11, 0, sockaddrBytes(r6)[:20])); from.IsValid() {
		t.Errorf("a truncated sockaddr_in6 gave %v", from)
	}
}

// TraceProbe over a real path, in the client namespace of a private
// chain (internal/netchain): the TTL runs out at each router in turn,
// then the server answers, for TCP and UDP, IPv4 and IPv6.
func TestTraceProbeChain(t *testing.T) {
	c := netchain.Build(t, fmt.Sprintf("trace-%d-probe", os.Getpid()))
	var ln net.Listener
	if err := c.Do(c.Server, func() (err error) {
		ln, err = net.Listen("tcp", net.JoinHostPort(netchain.Server4, "0"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	open := uint16(ln.Addr().(*net.TCPAddr).Port)

	exceeded4, exceeded6 := ICMPMessage{Type: 11}, ICMPMessage{V6: true, Type: 3}
	r1, r2 := netip.MustParseAddr(netchain.Router14), netip.MustParseAddr(netchain.Router24)
	r16, r26 := netip.MustParseAddr(netchain.Router16), netip.MustParseAddr(netchain.Router26)
	s4, s6 := netip.MustParseAddr(netchain.Server4), netip.MustParseAddr(netchain.Server6)
	for _, tc := range []struct {
		network string
		dst     netip.AddrPort
		ttl     int
		want    TraceResult // RTT aside
	}{
		{"tcp", netip.AddrPortFrom(s4, open), 1, TraceResult{Answer: TraceICMP, From: r1, ICMP: exceeded4}},
		{"tcp", netip.AddrPortFrom(s4, open), 2, TraceResult{Answer: TraceICMP, From: r2, ICMP: exceeded4}},
		{"tcp", netip.AddrPortFrom(s4, open), 3, TraceResult{Answer: TraceOpen, From: s4}},
		{"tcp", netip.AddrPortFrom(s4, 9), 3, TraceResult{Answer: TraceClosed, From: s4}},
		{"udp", netip.AddrPortFrom(s4, 9), 2, TraceResult{Answer: TraceICMP, From: r2, ICMP: exceeded4}},
		{"udp", netip.AddrPortFrom(s4, 9), 3, TraceResult{Answer: TraceICMP, From: s4, ICMP: ICMPMessage{Type: 3, Code: 3}}},
		{"tcp", netip.AddrPortFrom(s6, 9), 1, TraceResult{Answer: TraceICMP, From: r16, ICMP: exceeded6}},
		{"tcp", netip.AddrPortFrom(s6, 9), 2, TraceResult{Answer: TraceICMP, From: r26, ICMP: exceeded6}},
		{"tcp", netip.AddrPortFrom(s6, 9), 3, TraceResult{Answer: TraceClosed, From: s6}},
		{"udp", netip.AddrPortFrom(s6, 9), 1, TraceResult{Answer: TraceICMP, From: r16, ICMP: exceeded6}},
		{"udp", netip.AddrPortFrom(s6, 9), 3, TraceResult{Answer: TraceICMP, From: s6, ICMP: ICMPMessage{V6: true, Type: 1, Code: 4}}},
	} {
		var res TraceResult
		err := c.Do(c.Client, func() (err error) {
			res, err = TraceProbe(context.Background(), tc.network, tc.dst, TraceProbeOptions{TTL: tc.ttl, Timeout: 5 * time.Second})
			return err
		})
		if err != nil {
			t.Errorf("%s %v TTL %d: %v", tc.network, tc.dst, tc.ttl, err)
			continue
		}
		if res.RTT <= 0 {
			t.Errorf("%s %v TTL %d: no round-trip time", tc.network, tc.dst, tc.ttl)
		}
		res.RTT = 0
		if res != tc.want {
			t.Errorf("%s %v TTL %d: %+v, want %+v", tc.network, tc.dst, tc.ttl, res, tc.want)
		}
	}
}

// A probe whose answer is queued in time but read only after its
// deadline (its goroutine ran late on a loaded machine) reports the
// answer, not silence, with the round trip the kernel's arrival stamp
// gives rather than the wait.
func TestTraceProbeLateReader(t *testing.T) {
	c := netchain.Build(t, fmt.Sprintf("trace-%d-late", os.Getpid()))
	const timeout = time.Millisecond
	var queued time.Duration // from the send until the answer was seen queued
	testHookTraceWait = func(fd int, deadline time.Time) {
		// Wait (bounded) until the router's answer is queued, then until
		// the deadline has passed.
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLERR}}
		if n, err := unix.Poll(pfd, 10000); n != 1 || err != nil {
			t.Errorf("no answer queued within 10 s: %v", err)
		}
		queued = time.Since(deadline.Add(-timeout))
		time.Sleep(time.Until(deadline) + 50*time.Millisecond)
	}
	defer func() { testHookTraceWait = nil }()
	// Linux stamps received packets only while some socket asks for it,
	// and turns the stamps on a moment after the first one does: hold one
	// such socket, and give each network up to 40 probes (a few seconds) to be stamped.
	keep, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(keep)
	if err := syscall.SetsockoptInt(keep, syscall.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
		t.Fatal(err)
	}
	r2 := netip.MustParseAddr(netchain.Router24)
	dst := netip.AddrPortFrom(netip.MustParseAddr(netchain.Server4), 9)
	for _, network := range []string{"tcp", "udp"} {
		stamped := false
		for try := 1; try <= 40 && !stamped; try++ {
			var res TraceResult
			err := c.Do(c.Client, func() (err error) {
				res, err = TraceProbe(context.Background(), network, dst, TraceProbeOptions{TTL: 2, Timeout: timeout})
				return err
			})
			if err != nil {
				t.Fatalf("%s: %v", network, err)
			}
			if res.Answer != TraceICMP || res.From != r2 {
				t.Fatalf("%s: %+v, want time exceeded from %v", network, res, r2)
			}
			t.Logf("%s try %d: round trip %v, answer seen queued after %v", network, try, res.RTT, queued)
			stamped = res.RTT > 0 && res.RTT <= queued
		}
		if !stamped {
			t.Errorf("%s: every round trip was longer than the time until the answer was queued: the wait, not the kernel's arrival stamp", network)
		}
	}
}

func TestParseTimespec(t *testing.T) {
	ne := binary.NativeEndian
	b16 := ne.AppendUint64(ne.AppendUint64(nil, 1700000000), 123456789)
	if got, want := parseTimespec(b16), time.Unix(1700000000, 123456789); !got.Equal(want) {
		t.Errorf("16 bytes: %v, want %v", got, want)
	}
	b8 := ne.AppendUint32(ne.AppendUint32(nil, 1700000000), 5)
	if got, want := parseTimespec(b8), time.Unix(1700000000, 5); !got.Equal(want) {
		t.Errorf("8 bytes: %v, want %v", got, want)
	}
	if got := parseTimespec(make([]byte, 12)); !got.IsZero() {
		t.Errorf("12 bytes: %v, want the zero time", got)
	}
}
