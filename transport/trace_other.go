//go:build !linux

package transport

import (
	"context"
	"net/netip"
)

// CheckTrace tells whether trace probes of network can be made here.
func CheckTrace(string) error { return ErrTraceUnsupported }

// TraceProbe cannot read the routers' answers on this system.
func TraceProbe(context.Context, string, netip.AddrPort, TraceProbeOptions) (TraceResult, error) {
	return TraceResult{}, ErrTraceUnsupported
}
