package transport

import "testing"

func TestICMPMessage(t *testing.T) {
	for _, tc := range []struct {
		m                 ICMPMessage
		name, label       string
		exceeded, refused bool
	}{
		{ICMPMessage{Type: 11}, "time exceeded", "ICMP 11/0", true, false},
		{ICMPMessage{Type: 11, Code: 1}, "fragment reassembly time exceeded", "ICMP 11/1", true, false},
		{ICMPMessage{Type: 3, Code: 3}, "port unreachable", "ICMP 3/3", false, true},
		{ICMPMessage{Type: 3, Code: 13}, "admin prohibited", "ICMP 3/13", false, false},
		{ICMPMessage{Type: 3, Code: 1}, "host unreachable", "ICMP 3/1", false, false},
		{ICMPMessage{Type: 3, Code: 10}, "host prohibited", "ICMP 3/10", false, false},
		{ICMPMessage{Type: 3, Code: 99}, "unreachable", "ICMP 3/99", false, false},
		{ICMPMessage{Type: 12}, "parameter problem", "ICMP 12/0", false, false},
		{ICMPMessage{Type: 5}, "ICMP error", "ICMP 5/0", false, false},
		{ICMPMessage{V6: true, Type: 3}, "time exceeded", "ICMPv6 3/0", true, false},
		{ICMPMessage{V6: true, Type: 1, Code: 4}, "port unreachable", "ICMPv6 1/4", false, true},
		{ICMPMessage{V6: true, Type: 1, Code: 1}, "admin prohibited", "ICMPv6 1/1", false, false},
		{ICMPMessage{V6: true, Type: 1, Code: 0}, "no route", "ICMPv6 1/0", false, false},
		{ICMPMessage{V6: true, Type: 2}, "packet too big", "ICMPv6 2/0", false, false},
		// ICMPv4's numbers mean something else in ICMPv6, and the reverse.
		{ICMPMessage{V6: true, Type: 11}, "ICMP error", "ICMPv6 11/0", false, false},
		{ICMPMessage{Type: 1, Code: 4}, "ICMP error", "ICMP 1/4", false, false},
	} {
		if got := tc.m.String(); got != tc.name {
			t.Errorf("%+v: String() = %q, want %q", tc.m, got, tc.name)
		}
		if got := tc.m.Label(); got != tc.label {
			t.Errorf("%+v: Label() = %q, want %q", tc.m, got, tc.label)
		}
		if got := tc.m.TimeExceeded(); got != tc.exceeded {
			t.Errorf("%+v: TimeExceeded() = %v", tc.m, got)
		}
		if got := tc.m.PortUnreachable(); got != tc.refused {
			t.Errorf("%+v: PortUnreachable() = %v", tc.m, got)
		}
	}
}
