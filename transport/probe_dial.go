//go:build !linux

package transport

import (
	"context"
	"net/netip"
)

// startTCP leaves the whole probe to Go's dialer, which waits.
func startTCP(ctx context.Context, addr netip.AddrPort, o ProbeOptions, _ *ProbeSockets) (ProbeResult, func() (ProbeResult, error), error) {
	return ProbeResult{}, func() (ProbeResult, error) { return probeTCPDial(ctx, addr, o) }, nil
}

// Close releases the sockets s keeps: none, where probes dial.
func (s *ProbeSockets) Close() {}
