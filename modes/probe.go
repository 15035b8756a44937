package modes

// What scan, ping and wait share before their first probe: a default
// timeout, and the one resolution that their times leave out.

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

// DefaultProbeTimeout is how long scan waits for each port (-w), wait for
// each attempt and ping for each probe, unless told otherwise.
const DefaultProbeTimeout = time.Second

// resolveOnce resolves the host of t (and its source address, if any)
// once, for modes that time what follows: the first address is used, of
// the source's family when a source is given; others are mentioned with -v.
func resolveOnce(ctx context.Context, t transport.Endpoint, u *ui.UI) (addr, src netip.Addr, err error) {
	if t.Source != "" {
		srcs, err := transport.Resolve(ctx, t.Source, t.Family, t.Numeric)
		if err != nil {
			return addr, src, err
		}
		src = srcs[0]
	}
	host := t.Host
	addrs, err := transport.Resolve(ctx, host, t.Family, t.Numeric)
	if err != nil {
		return addr, src, err
	}
	for _, a := range addrs {
		if !src.IsValid() || a.Is4() == src.Is4() {
			addr = a
			break
		}
	}
	if !addr.IsValid() {
		return addr, src, &transport.InputError{
			Msg:  fmt.Sprintf("source address %s cannot reach %s: different address families", t.Source, host),
			Hint: "give -s an address of the same family as the host"}
	}
	if len(addrs) > 1 {
		var others []string
		for _, a := range addrs {
			if a != addr {
				others = append(others, a.String())
			}
		}
		u.Verbosef(1, "%s has more addresses, not used: %s (pick one with -4/-6 or give it instead of the name)",
			host, strings.Join(others, ", "))
	}
	return addr, src, nil
}

// hostAndAddr names a target the way ping(8) does: "example.com
// (192.0.2.1)", or just the address when that is what the user gave.
func hostAndAddr(host string, addr netip.Addr) string {
	if a, err := netip.ParseAddr(host); err == nil && a.Unmap() == addr {
		return addr.String()
	}
	return host + " (" + addr.String() + ")"
}

// resolveAll resolves host (and the source address, if any) for modes
// that probe every address of a name, as a connect tries each: all of
// them, in the resolver's order and without repeats, but only those of
// the source's family when a source is given. Each lookup takes at most
// timeout (none when 0), as a connect's does under -w.
func resolveAll(ctx context.Context, host, source string, family int, numeric bool, timeout time.Duration) (addrs []netip.Addr, src netip.Addr, err error) {
	e := transport.Endpoint{Family: family, Numeric: numeric}
	if source != "" {
		srcs, err := transport.ResolveWithin(ctx, source, e, timeout)
		if err != nil {
			return nil, src, err
		}
		src = srcs[0]
	}
	all, err := transport.ResolveWithin(ctx, host, e, timeout)
	if err != nil {
		return nil, src, err
	}
	for _, a := range all {
		if (!src.IsValid() || a.Is4() == src.Is4()) && !slices.Contains(addrs, a) {
			addrs = append(addrs, a)
		}
	}
	if len(addrs) == 0 {
		return nil, src, &transport.InputError{
			Msg:  fmt.Sprintf("source address %s cannot reach %s: different address families", source, host),
			Hint: "give -s an address of the same family as the host"}
	}
	return addrs, src, nil
}
