package transport

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
)

// AccessList decides which clients a listener serves (--allow, --deny).
// A client is refused when it matches a deny rule, or when allow rules
// exist and it matches none. Rules are CIDRs, single addresses or host
// names (resolved once, when the list is built).
type AccessList struct {
	allow, deny []netip.Prefix
	uids        []uint32 // --allow-uid: the users a Unix listener serves
}

// NewAccessList parses --allow and --deny values (each may be repeated or
// comma-separated). Names are resolved now, honouring -n.
func NewAccessList(ctx context.Context, allow, deny []string, numeric bool) (*AccessList, error) {
	a := &AccessList{}
	var err error
	if a.allow, err = parseRules(ctx, "--allow", allow, numeric); err != nil {
		return nil, err
	}
	if a.deny, err = parseRules(ctx, "--deny", deny, numeric); err != nil {
		return nil, err
	}
	return a, nil
}

func parseRules(ctx context.Context, flag string, values []string, numeric bool) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, v := range values {
		for _, item := range strings.Split(v, ",") {
			item = strings.TrimSpace(item)
			if item == "" {
				continue
			}
			if err := checkNoZone(flag, item); err != nil {
				return nil, err
			}
			if strings.Contains(item, "/") {
				p, err := netip.ParsePrefix(item)
				if err != nil {
					return nil, badInput("give a CIDR such as 10.0.0.0/8 or fd00::/8, an address or a host name",
						"bad %s %q: not a CIDR", flag, item)
				}
				p = p.Masked()
				// Permits sees an IPv4 client of a dual-stack socket as
				// IPv4 (it unmaps ::ffff:a.b.c.d), so an IPv4-mapped CIDR
				// is the IPv4 CIDR it maps: ::ffff:10.0.0.0/104 is 10.0.0.0/8.
				if p.Addr().Is4In6() && p.Bits() >= 96 {
					p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
				}
				out = append(out, p)
				continue
			}
			host, err := ParseHost(item)
			if err != nil {
				return nil, err
			}
			addrs, err := Resolve(ctx, host, 0, numeric)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", flag, item, err)
			}
			for _, ad := range addrs {
				out = append(out, netip.PrefixFrom(ad, ad.BitLen()))
			}
		}
	}
	return out, nil
}

// checkNoZone refuses a rule with an IPv6 zone (fe80::1%eth0): rules
// compare addresses only, so it would match the address on every
// interface, not on the one it names.
func checkNoZone(flag, item string) error {
	at := strings.IndexByte(item, '%')
	if at < 0 {
		return nil
	}
	end := len(item)
	if i := strings.IndexAny(item[at:], "/]"); i >= 0 {
		end = at + i
	}
	return badInput(fmt.Sprintf("a rule matches its address on every interface; write it without the zone: %s", item[:at]+item[end:]),
		"bad %s %q: a rule cannot name an interface (%s)", flag, item, item[at:end])
}

// Active tells whether any rule was given.
func (a *AccessList) Active() bool {
	return a != nil && (len(a.allow) > 0 || len(a.deny) > 0 || len(a.uids) > 0)
}

// WithUIDs limits the Unix clients served to those running as one of uids
// (--allow-uid), read from each peer's credentials. a may be nil.
func (a *AccessList) WithUIDs(uids []uint32) *AccessList {
	if a == nil {
		a = &AccessList{}
	}
	a.uids = uids
	return a
}

// PermitsConn tells whether an accepted client may be served, and if not,
// why: Permits for its address, and, with --allow-uid, a Unix client's
// user as its credentials give it. A client whose credentials cannot be
// read is refused.
func (a *AccessList) PermitsConn(c net.Conn) (ok bool, why string) {
	if a.Active() && len(a.uids) > 0 && c.LocalAddr().Network() == "unix" {
		uid, err := PeerUID(c)
		if err != nil {
			return false, "its user cannot be told: " + err.Error()
		}
		if !slices.Contains(a.uids, uid) {
			return false, fmt.Sprintf("its user id %d matches no --allow-uid", uid)
		}
	}
	return a.Permits(c.RemoteAddr())
}

// Permits tells whether the client at addr may be served, and if not, why.
// Clients without an IP address (Unix sockets) are always permitted.
func (a *AccessList) Permits(addr net.Addr) (ok bool, why string) {
	if !a.Active() {
		return true, ""
	}
	ip := ipOf(addr)
	if !ip.IsValid() {
		return true, ""
	}
	for _, p := range a.deny {
		if p.Contains(ip) {
			return false, "matches --deny " + p.String()
		}
	}
	if len(a.allow) == 0 {
		return true, ""
	}
	for _, p := range a.allow {
		if p.Contains(ip) {
			return true, ""
		}
	}
	return false, "matches no --allow rule"
}
