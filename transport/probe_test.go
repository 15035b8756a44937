package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sondeproject/sonde/internal/porttest"
)

func TestProbeTCPOpen(t *testing.T) {
	addr := porttest.Listener(t)
	res, err := ProbeTCP(context.Background(), addr, ProbeOptions{Timeout: guard})
	if err != nil {
		t.Fatal(err)
	}
	if res.State != Open || res.RTT <= 0 || res.Why != "" {
		t.Errorf("ProbeTCP(listener %s) = %+v, want open with a round-trip time", addr, res)
	}
}

func TestProbeTCPClosed(t *testing.T) {
	addr := porttest.ClosedPort(t)
	res, err := ProbeTCP(context.Background(), addr, ProbeOptions{Timeout: guard})
	if err != nil {
		t.Fatal(err)
	}
	if res.State != Closed || res.Why != "connection refused" || res.RTT <= 0 {
		t.Errorf("ProbeTCP(closed %s) = %+v, want closed: connection refused, with a time", addr, res)
	}
}

func TestProbeTCPSource(t *testing.T) {
	addr := porttest.Listener(t)
	res, err := ProbeTCP(context.Background(), addr, ProbeOptions{Source: netip.MustParseAddr("127.0.0.1"), Timeout: guard})
	if err != nil || res.State != Open {
		t.Errorf("ProbeTCP from 127.0.0.1 = %+v, %v; want open", res, err)
	}
	// An address of no interface: the source is at fault, not the port.
	for name, probe := range map[string]func(context.Context, netip.AddrPort, ProbeOptions) (ProbeResult, error){
		"tcp": ProbeTCP, "udp": ProbeUDP,
	} {
		_, err = probe(context.Background(), addr, ProbeOptions{Source: netip.MustParseAddr("192.0.2.1"), Timeout: guard})
		var se *SourceError
		if !errors.As(err, &se) || !errors.Is(err, syscall.EADDRNOTAVAIL) {
			t.Errorf("%s probe from 192.0.2.1: %v (%T), want a *SourceError for EADDRNOTAVAIL", name, err, err)
		}
	}
}

func TestProbeCanceled(t *testing.T) {
	stop := errors.New("interrupted")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(stop)
	for name, probe := range map[string]func(context.Context, netip.AddrPort, ProbeOptions) (ProbeResult, error){
		"tcp": ProbeTCP, "udp": ProbeUDP,
	} {
		if _, err := probe(ctx, porttest.Listener(t), ProbeOptions{Timeout: guard}); !errors.Is(err, stop) {
			t.Errorf("%s probe with a canceled context: %v, want the cancel cause", name, err)
		}
	}
}

// An answer ends the probe: retries are for silence only.
func TestProbeRetriesEndAtAnswer(t *testing.T) {
	closed := porttest.ClosedPort(t)
	for name, probe := range map[string]func(context.Context, netip.AddrPort, ProbeOptions) (ProbeResult, error){
		"tcp": ProbeTCP, "udp": ProbeUDP,
	} {
		res, err := probe(context.Background(), closed, ProbeOptions{Timeout: guard, Retries: 3})
		if err != nil || res.State != Closed || res.RTT <= 0 {
			t.Errorf("%s probe of a closed port with 3 retries: %+v, %v; want closed, with a time", name, res, err)
		}
	}
	// A silent UDP port gets the datagram again, and stays open|filtered.
	res, err := ProbeUDP(context.Background(), porttest.SilentUDP(t), ProbeOptions{Timeout: 100 * time.Millisecond, Retries: 1})
	if err != nil || res.State != OpenFiltered || res.Why != "no reply to 2 probes, 100ms each" {
		t.Errorf("ProbeUDP(silent port, 1 retry) = %+v, %v; want open|filtered: no reply to 2 probes, 100ms each", res, err)
	}
}

func TestProbeUDP(t *testing.T) {
	tests := []struct {
		name string
		addr netip.AddrPort
		want PortState
		why  string
	}{
		{"echo server", porttest.UDPEcho(t, nil), Open, ""},
		{"closed port", porttest.ClosedPort(t), Closed, "ICMP port unreachable"},
		{"silent socket", porttest.SilentUDP(t), OpenFiltered, "no reply to 3 probes, 1s each"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := ProbeUDP(context.Background(), tt.addr, ProbeOptions{Timeout: time.Second, Retries: 2})
			if err != nil {
				t.Fatal(err)
			}
			if res.State != tt.want || res.Why != tt.why {
				t.Errorf("ProbeUDP(%s) = %+v, want %s (%q)", tt.addr, res, tt.want, tt.why)
			}
		})
	}
}

// classifyConnect turns each error a connect can end with into a state,
// and leaves local failures as errors.
func TestClassifyConnect(t *testing.T) {
	op := func(err error) error {
		return &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", err)}
	}
	tests := []struct {
		err   error
		want  PortState
		why   string
		local bool
	}{
		{err: op(syscall.ECONNREFUSED), want: Closed, why: "connection refused"},
		{err: op(syscall.ECONNRESET), want: Closed, why: "connection reset by peer"},
		{err: op(syscall.ETIMEDOUT), want: Filtered, why: "no answer within 1s"},
		{err: &net.OpError{Op: "dial", Net: "tcp", Err: context.DeadlineExceeded}, want: Filtered, why: "no answer within 1s"},
		{err: os.ErrDeadlineExceeded, want: Filtered, why: "no answer within 1s"},
		{err: op(syscall.EHOSTUNREACH), want: Filtered, why: "no route to host"},
		{err: op(syscall.ENETUNREACH), want: Filtered, why: "network unreachable"},
		{err: op(syscall.EACCES), want: Filtered, why: "permission denied"},
		{err: op(syscall.EPERM), want: Filtered, why: "permission denied"},
		{err: op(syscall.EMFILE), local: true},
		{err: op(syscall.EADDRNOTAVAIL), local: true},
		{err: op(syscall.EAGAIN), local: true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.err), func(t *testing.T) {
			res, err := classifyConnect(tt.err, time.Millisecond, time.Second)
			switch {
			case tt.local && err == nil:
				t.Errorf("classifyConnect(%v) = %+v, want the error back (a local failure)", tt.err, res)
			case !tt.local && (err != nil || res.State != tt.want || res.Why != tt.why):
				t.Errorf("classifyConnect(%v) = %+v, %v; want %s (%q)", tt.err, res, err, tt.want, tt.why)
			}
		})
	}
}

func TestParseServices(t *testing.T) {
	const file = `# comment line
tcpmux		1/tcp				# TCP port service multiplexer
ssh		22/tcp				# SSH Remote Login Protocol
domain		53/tcp
domain		53/udp
http		80/tcp		www		# WorldWideWeb HTTP
www-alt		80/tcp				# a second name: the first wins
bad		99999/tcp
nonum		x/tcp
broken
ntp		123/UDP
`
	m := parseServices(strings.NewReader(file))
	tests := []struct {
		port    int
		network string
		want    string
	}{
		{1, "tcp", "tcpmux"}, {22, "tcp", "ssh"}, {53, "udp", "domain"}, {80, "tcp", "http"},
		{123, "udp", "ntp"}, {22, "udp", ""}, {99999, "tcp", ""},
	}
	for _, tt := range tests {
		if got := m[serviceKey{tt.port, tt.network}]; got != tt.want {
			t.Errorf("port %d/%s: %q, want %q", tt.port, tt.network, got, tt.want)
		}
	}
	if len(m) != 6 {
		t.Errorf("parsed %d entries, want 6: %v", len(m), m)
	}
}

// ServiceName names common ports whether or not the system has a services
// file, and names no service for a port nothing is registered on.
func TestServiceName(t *testing.T) {
	for _, tt := range []struct {
		port    int
		network string
		want    string
	}{{22, "tcp", "ssh"}, {443, "tcp", "https"}, {53, "udp", "domain"}, {5432, "tcp", "postgresql"}} {
		if got := ServiceName(tt.port, tt.network); got != tt.want {
			t.Errorf("ServiceName(%d, %s) = %q, want %q", tt.port, tt.network, got, tt.want)
		}
		if got := builtinServices()[serviceKey{tt.port, tt.network}]; got != tt.want {
			t.Errorf("built-in name of %d/%s = %q, want %q", tt.port, tt.network, got, tt.want)
		}
	}
	if got := ServiceName(1, "udp"); got != "" && got != "tcpmux" {
		t.Errorf("ServiceName(1, udp) = %q", got)
	}
}
