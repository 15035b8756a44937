package transport

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
)

func TestAccessListPermits(t *testing.T) {
	tcp := func(ip string) net.Addr { return &net.TCPAddr{IP: net.ParseIP(ip), Port: 5555} }
	udp := func(ip string) net.Addr { return &net.UDPAddr{IP: net.ParseIP(ip), Port: 5555} }
	for _, tc := range []struct {
		name        string
		allow, deny []string
		addr        net.Addr
		ok          bool
		why         string
	}{
		{"no rules", nil, nil, tcp("192.0.2.1"), true, ""},
		{"deny CIDR", nil, []string{"192.0.2.0/24"}, tcp("192.0.2.77"), false, "matches --deny 192.0.2.0/24"},
		{"deny CIDR misses", nil, []string{"192.0.2.0/24"}, tcp("198.51.100.1"), true, ""},
		{"deny CIDR masked", nil, []string{"192.0.2.9/24"}, tcp("192.0.2.200"), false, "matches --deny 192.0.2.0/24"},
		{"deny address", nil, []string{"192.0.2.1"}, tcp("192.0.2.1"), false, "matches --deny 192.0.2.1/32"},
		{"allow address", []string{"192.0.2.1"}, nil, tcp("192.0.2.1"), true, ""},
		{"allow misses", []string{"192.0.2.1"}, nil, tcp("192.0.2.2"), false, "matches no --allow rule"},
		{"deny wins over allow", []string{"10.0.0.0/8"}, []string{"10.1.0.0/16"}, tcp("10.1.2.3"), false, "matches --deny 10.1.0.0/16"},
		{"allow outside deny", []string{"10.0.0.0/8"}, []string{"10.1.0.0/16"}, tcp("10.2.0.1"), true, ""},
		{"comma-separated", []string{"192.0.2.1, 198.51.100.0/24"}, nil, tcp("198.51.100.9"), true, ""},
		{"repeated", []string{"192.0.2.1", "198.51.100.0/24"}, nil, tcp("198.51.100.9"), true, ""},
		{"IPv4-mapped client", []string{"192.0.2.0/24"}, nil, tcp("::ffff:192.0.2.5"), true, ""},
		{"IPv6 CIDR", nil, []string{"2001:db8::/32"}, tcp("2001:db8::1"), false, "matches --deny 2001:db8::/32"},
		{"IPv6 bracketed", []string{"[::1]"}, nil, tcp("::1"), true, ""},
		{"IPv4 rule, IPv6 client", []string{"127.0.0.1"}, nil, tcp("::1"), false, "matches no --allow rule"},
		{"UDP sender", nil, []string{"192.0.2.0/24"}, udp("192.0.2.1"), false, "matches --deny 192.0.2.0/24"},
		{"unix client", []string{"192.0.2.1"}, nil, &net.UnixAddr{Name: "@", Net: "unix"}, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := NewAccessList(context.Background(), tc.allow, tc.deny, true)
			if err != nil {
				t.Fatal(err)
			}
			ok, why := a.Permits(tc.addr)
			if ok != tc.ok || why != tc.why {
				t.Errorf("Permits(%v) = %v, %q; want %v, %q", tc.addr, ok, why, tc.ok, tc.why)
			}
		})
	}
}

// A nil list (no --allow, no --deny) permits everyone.
func TestAccessListNil(t *testing.T) {
	var a *AccessList
	if a.Active() {
		t.Error("a nil list is active")
	}
	if ok, why := a.Permits(&net.TCPAddr{IP: net.IPv4(192, 0, 2, 1)}); !ok || why != "" {
		t.Errorf("a nil list refuses: %q", why)
	}
}

// Names are resolved when the list is built.
func TestAccessListResolvesNames(t *testing.T) {
	a, err := NewAccessList(context.Background(), []string{"localhost"}, nil, false)
	if err != nil {
		t.Skipf("localhost does not resolve here: %v", err)
	}
	if ok, _ := a.Permits(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}); !ok {
		t.Error("--allow localhost refuses 127.0.0.1")
	}
	if ok, _ := a.Permits(&net.TCPAddr{IP: net.IPv4(192, 0, 2, 1)}); ok {
		t.Error("--allow localhost permits 192.0.2.1")
	}
}

func TestAccessListBadRules(t *testing.T) {
	for _, tc := range []struct {
		allow, deny []string
		numeric     bool
		want        string
	}{
		{[]string{"10.0.0.0/33"}, nil, true, `bad --allow "10.0.0.0/33": not a CIDR`},
		{nil, []string{"nonsense/8"}, true, `bad --deny "nonsense/8": not a CIDR`},
		{[]string{"bad name!"}, nil, true, `bad host name "bad name!"`},
		{[]string{"example.com"}, nil, true, `-n forbids DNS lookups`},
		{nil, []string{"[fe80::1"}, true, `bad address`},
		{[]string{"fe80::1%eth0"}, nil, true, `bad --allow "fe80::1%eth0": a rule cannot name an interface (%eth0)`},
		{nil, []string{"10.0.0.1,[fe80::1%2]"}, true, `bad --deny "[fe80::1%2]": a rule cannot name an interface (%2)`},
		{[]string{"fe80::%eth0/64"}, nil, true, `bad --allow "fe80::%eth0/64": a rule cannot name an interface (%eth0)`},
	} {
		_, err := NewAccessList(context.Background(), tc.allow, tc.deny, tc.numeric)
		var in *InputError
		if !errors.As(err, &in) || !strings.Contains(in.Msg, tc.want) {
			t.Errorf("allow %q deny %q: got %v, want a usage error containing %q", tc.allow, tc.deny, err, tc.want)
		}
		if in != nil && strings.Contains(tc.want, "interface") && !strings.Contains(in.Hint, "without the zone: ") {
			t.Errorf("allow %q deny %q: hint %q, want the rule without its zone", tc.allow, tc.deny, in.Hint)
		}
	}
}

// accessItems splits a --allow or --deny value as the user sees it.
func accessItems(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// ruleAddr is a client address inside rule (a CIDR or an address, as
// accepted by NewAccessList), its host bits taken from bits. ok is false
// when which clients the rule means is not settled: an IPv4 client on a
// dual-stack socket is seen as ::ffff:a.b.c.d, and is matched as an IPv4
// address, so a broad IPv6 CIDR (::/0) that contains its mapped form does
// not count as naming it.
func ruleAddr(t *testing.T, rule string, bits []byte) (addr netip.Addr, ok bool) {
	t.Helper()
	if !strings.Contains(rule, "/") {
		a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(rule, "["), "]"))
		if err != nil {
			t.Fatalf("accepted rule %q (numeric) is not an address: %v", rule, err)
		}
		return a.WithZone(""), true
	}
	p, err := netip.ParsePrefix(rule)
	if err != nil {
		t.Fatalf("accepted rule %q is not a CIDR: %v", rule, err)
	}
	p = p.Masked()
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		var bit byte
		if j := i - p.Bits(); j/8 < len(bits) {
			bit = bits[j/8] >> (7 - j%8) & 1
		}
		b[i/8] |= bit << (7 - i%8)
	}
	addr, _ = netip.AddrFromSlice(b)
	if addr.Is4In6() && p.Bits() < 96 {
		return addr, false
	}
	return addr, true
}

// clientAddrs are the ways a listener may see the client at a: over TCP
// and UDP, and for IPv4 also as the mapped address of a dual-stack socket.
func clientAddrs(a netip.Addr) []net.Addr {
	ips := []net.IP{a.AsSlice()}
	if a.Is4() || a.Is4In6() {
		v4 := a.Unmap().As4()
		v6 := netip.AddrFrom16(a.Unmap().As16()).As16()
		ips = []net.IP{v4[:], v6[:]}
	}
	var out []net.Addr
	for _, ip := range ips {
		out = append(out, &net.TCPAddr{IP: ip, Port: 40000}, &net.UDPAddr{IP: ip, Port: 40000})
	}
	return out
}

// generatedRule is a CIDR of the family shape chooses (none, IPv4, IPv6,
// IPv4-mapped IPv6), its length and address taken from bits: random text
// seldom spells a valid CIDR, let alone a mapped one.
func generatedRule(shape uint16, bits []byte) string {
	var b [16]byte
	copy(b[:], bits)
	var a netip.Addr
	switch shape % 4 {
	case 0:
		return ""
	case 1:
		a = netip.AddrFrom4([4]byte(b[:4]))
	case 2:
		a = netip.AddrFrom16(b)
	case 3:
		a = netip.AddrFrom16(netip.AddrFrom4([4]byte(b[:4])).As16())
	}
	return netip.PrefixFrom(a, int(shape>>2)%(a.BitLen()+1)).String()
}

// FuzzAccessList: --allow and --deny, always with -n (numeric), so that no
// name is ever looked up. The rules are the text given, plus one CIDR made
// by generatedRule. Every client built from a rule is served by an allow
// list of those rules, refused by a deny list of them, and refused when the
// rules are in both (deny wins); any other client is served by the allow
// list exactly when the deny list refuses it.
func FuzzAccessList(f *testing.F) {
	f.Add("10.0.0.0/8", uint16(0), []byte{1, 2, 3})
	f.Add("192.0.2.1, ::1", uint16(0), []byte{})
	f.Add("fd00::/8,[::1]", uint16(0), []byte{0xff, 0xff})
	f.Add("::ffff:10.0.0.0/104", uint16(0), []byte{7, 7, 7})
	f.Add("::/0", uint16(0), []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4})
	f.Add("0.0.0.0/0", uint16(0), []byte{9})
	f.Add("fe80::1%eth0", uint16(0), []byte{})
	f.Add("localhost", uint16(0), []byte{})
	f.Add("10.0.0.0/33", uint16(0), []byte{})
	f.Add("1.2.3.4/24,,", uint16(0), []byte{4})
	f.Add("", uint16(24<<2|1), []byte{192, 0, 2, 1})
	f.Add("", uint16(64<<2|2), []byte{0x20, 0x01, 0xd, 0xb8})
	f.Fuzz(func(t *testing.T, rules string, shape uint16, bits []byte) {
		if g := generatedRule(shape, bits); g != "" {
			rules += "," + g
		}
		ctx := context.Background()
		allow, err := NewAccessList(ctx, []string{rules}, nil, true)
		if err != nil {
			checkFuzzError(t, err)
			if _, err := NewAccessList(ctx, nil, []string{rules}, true); err == nil {
				t.Fatalf("%q: rejected by --allow but not by --deny", rules)
			}
			return
		}
		deny, err := NewAccessList(ctx, nil, []string{rules}, true)
		if err != nil {
			t.Fatalf("%q: accepted by --allow, rejected by --deny: %v", rules, err)
		}
		both, err := NewAccessList(ctx, []string{rules}, []string{rules}, true)
		if err != nil {
			t.Fatalf("%q: accepted alone, rejected in both lists: %v", rules, err)
		}
		items := accessItems(rules)
		if allow.Active() != (len(items) > 0) || deny.Active() != (len(items) > 0) {
			t.Fatalf("%q: %d rules, Active() = %v", rules, len(items), allow.Active())
		}
		unix := &net.UnixAddr{Name: "/tmp/s", Net: "unix"}
		if ok, _ := deny.Permits(unix); !ok {
			t.Fatalf("%q: a Unix socket client was refused", rules)
		}
		for _, item := range items {
			a, settled := ruleAddr(t, item, bits)
			if !settled {
				continue
			}
			for _, c := range clientAddrs(a) {
				if ok, why := allow.Permits(c); !ok {
					t.Fatalf("--allow %q refuses %v (%s), built from rule %q", rules, c, why, item)
				}
				if ok, _ := deny.Permits(c); ok {
					t.Fatalf("--deny %q serves %v, built from rule %q", rules, c, item)
				}
				if ok, _ := both.Permits(c); ok {
					t.Fatalf("--allow and --deny %q serve %v, built from rule %q", rules, c, item)
				}
			}
		}
		// Any client: served by the allow list iff refused by the deny list.
		if ip, ok := netip.AddrFromSlice(bits); ok && len(items) > 0 {
			for _, c := range clientAddrs(ip) {
				okAllow, whyAllow := allow.Permits(c)
				okDeny, whyDeny := deny.Permits(c)
				if okAllow == okDeny {
					t.Fatalf("rules %q, client %v: allow list says %v (%s), deny list %v (%s)", rules, c, okAllow, whyAllow, okDeny, whyDeny)
				}
				if okAllow != (whyAllow == "") || okDeny != (whyDeny == "") {
					t.Fatalf("rules %q, client %v: a refusal needs a reason, and only a refusal", rules, c)
				}
			}
		}
	})
}
