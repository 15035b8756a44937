//go:build !linux

package transport

import (
	"context"
	"net/netip"
)

func probeTCP(ctx context.Context, addr netip.AddrPort, o ProbeOptions) (ProbeResult, error) {
	return probeTCPDial(ctx, addr, o)
}
