package transport

import (
	"context"
	"errors"
	"net"
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
	} {
		_, err := NewAccessList(context.Background(), tc.allow, tc.deny, tc.numeric)
		var in *InputError
		if !errors.As(err, &in) || !strings.Contains(in.Msg, tc.want) {
			t.Errorf("allow %q deny %q: got %v, want a usage error containing %q", tc.allow, tc.deny, err, tc.want)
		}
	}
}
