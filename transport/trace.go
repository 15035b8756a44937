package transport

// The probes of sonde trace: one TCP SYN (a connect) or one UDP datagram
// toward the real service port, sent with a limited TTL (IPv6: hop
// limit), and what came back: the ICMP error of the router where the TTL
// ran out or the packet was refused, or the target's own answer. The
// ICMP errors are read without root from the socket's error queue, which
// only Linux has (trace_linux.go).

import (
	"errors"
	"net/netip"
	"strconv"
	"time"
)

// ErrTraceUnsupported is what TraceProbe and CheckTrace return where the
// routers' answers cannot be read without raw sockets.
var ErrTraceUnsupported = errors.New("sonde trace needs Linux: it reads the routers' ICMP answers from the socket error queue (IP_RECVERR), which this system lacks")

// TraceProbeOptions are the settings of one trace probe.
type TraceProbeOptions struct {
	Source  netip.Addr    // local address to bind; the zero Addr for any
	TTL     int           // IPv4 TTL or IPv6 hop limit, 1-255
	Timeout time.Duration // how long to wait for an answer; must be positive
}

// TraceAnswer is what kind of answer a trace probe got.
type TraceAnswer int

const (
	// TraceSilent: nothing came back within the timeout.
	TraceSilent TraceAnswer = iota
	// TraceICMP: an ICMP error, from a router or from the target (see
	// TraceResult.ICMP).
	TraceICMP
	// TraceOpen: the target accepted (TCP: SYN-ACK; UDP: a reply).
	TraceOpen
	// TraceClosed: the target reset the connection (TCP RST).
	TraceClosed
)

// ICMPMessage is the type and code of an ICMP (V6: ICMPv6) error.
type ICMPMessage struct {
	V6         bool
	Type, Code uint8
}

// TimeExceeded tells whether the TTL (hop limit) ran out on the way.
func (m ICMPMessage) TimeExceeded() bool {
	return m.V6 && m.Type == 3 || !m.V6 && m.Type == 11
}

// PortUnreachable tells whether the host said nothing listens on the port.
func (m ICMPMessage) PortUnreachable() bool {
	return m.V6 && m.Type == 1 && m.Code == 4 || !m.V6 && m.Type == 3 && m.Code == 3
}

// Label numbers the message as it is written on the wire: "ICMP 3/13",
// "ICMPv6 1/1".
func (m ICMPMessage) Label() string {
	proto := "ICMP"
	if m.V6 {
		proto = "ICMPv6"
	}
	return proto + " " + strconv.Itoa(int(m.Type)) + "/" + strconv.Itoa(int(m.Code))
}

var (
	icmpUnreachable = []string{"net unreachable", "host unreachable", "protocol unreachable", "port unreachable",
		"fragmentation needed", "source route failed", "net unknown", "host unknown", "source host isolated",
		"net prohibited", "host prohibited", "net unreachable for TOS", "host unreachable for TOS",
		"admin prohibited", "host precedence violation", "precedence cutoff"}
	icmp6Unreachable = []string{"no route", "admin prohibited", "beyond scope of source address", "address unreachable",
		"port unreachable", "source address failed policy", "reject route", "error in source routing header"}
)

// String names the message as traceroute's man page does: "time
// exceeded", "port unreachable", "admin prohibited", ...
func (m ICMPMessage) String() string {
	switch {
	case m.TimeExceeded() && m.Code == 1:
		return "fragment reassembly time exceeded"
	case m.TimeExceeded():
		return "time exceeded"
	case !m.V6 && m.Type == 3 && int(m.Code) < len(icmpUnreachable):
		return icmpUnreachable[m.Code]
	case m.V6 && m.Type == 1 && int(m.Code) < len(icmp6Unreachable):
		return icmp6Unreachable[m.Code]
	case !m.V6 && m.Type == 3, m.V6 && m.Type == 1:
		return "unreachable"
	case m.V6 && m.Type == 2:
		return "packet too big"
	case !m.V6 && m.Type == 12, m.V6 && m.Type == 4:
		return "parameter problem"
	}
	return "ICMP error"
}

// TraceResult is what one trace probe learned.
type TraceResult struct {
	Answer TraceAnswer
	From   netip.Addr    // who answered: a router, or the target; invalid when silent
	RTT    time.Duration // from the send to the answer; zero when silent
	ICMP   ICMPMessage   // the error, when Answer is TraceICMP

	at time.Time // when the kernel received the answer, if it said
}
