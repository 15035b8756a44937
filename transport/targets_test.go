package transport

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

func TestParseHosts(t *testing.T) {
	for _, c := range []struct {
		in      string
		want    string // the specs, space-separated
		count   uint64
		wantErr string
	}{
		{in: "db", want: "db", count: 1},
		{in: "db,10.0.0.0/28,[::1]", want: "db 10.0.0.0/28 ::1", count: 18},
		{in: " a , b ", want: "a b", count: 2},
		{in: "10.0.0.7/24", want: "10.0.0.0/24", count: 256}, // masked
		{in: "2001:db8::/120", want: "2001:db8::/120", count: 256},
		{in: "[2001:db8::]/126", want: "2001:db8::/126", count: 4},
		{in: "192.0.2.1/32", want: "192.0.2.1/32", count: 1},
		{in: "10.0.0.0/8", want: "10.0.0.0/8", count: 1 << 24},
		{in: "::/0", want: "::/0", count: math.MaxUint64},
		{in: "::/64", want: "::/64", count: math.MaxUint64},
		{in: "::/65", want: "::/65", count: 1 << 63},
		{in: "", wantErr: "missing host"},
		{in: "a,,b", wantErr: `empty host in "a,,b"`},
		{in: "a,", wantErr: "empty host"},
		{in: "10.0.0.0/33", wantErr: `bad CIDR block "10.0.0.0/33"`},
		{in: "db/24", wantErr: `bad CIDR block "db/24"`},
		{in: "10.0.0.0/", wantErr: `bad CIDR block "10.0.0.0/"`},
		{in: "::ffff:10.0.0.0/120", wantErr: "give IPv4 blocks in IPv4 form"},
		{in: "a b", wantErr: `bad host name "a b"`},
		{in: "db:80", wantErr: `bad address "db:80"`},
	} {
		t.Run(c.in, func(t *testing.T) {
			specs, err := ParseHosts(c.in)
			if c.wantErr != "" {
				in := checkInputError(t, err)
				if !strings.Contains(in.Msg, c.wantErr) {
					t.Fatalf("ParseHosts(%q): %q, want it to contain %q", c.in, in.Msg, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range specs {
				got = append(got, s.String())
			}
			if strings.Join(got, " ") != c.want || CountAddrs(specs) != c.count {
				t.Errorf("ParseHosts(%q) = %v (%d addresses), want %s (%d)", c.in, got, CountAddrs(specs), c.want, c.count)
			}
		})
	}
}

// A block lists every address of it, the first and last included, and
// nothing beyond; a name lists nothing (it is resolved).
func TestHostSpecAddrs(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"192.0.2.0/30", "192.0.2.0 192.0.2.1 192.0.2.2 192.0.2.3"},
		{"255.255.255.254/31", "255.255.255.254 255.255.255.255"}, // the last block: Next ends it
		{"2001:db8::fe/127", "2001:db8::fe 2001:db8::ff"},
		{"192.0.2.9/32", "192.0.2.9"},
		{"db", ""},
	} {
		specs, err := ParseHosts(c.in)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for a := range specs[0].Addrs() {
			got = append(got, a.String())
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("%s lists %v, want %s", c.in, got, c.want)
		}
	}
}

// The cap counts a block without listing it: a /8, or all of IPv6, is
// refused at once.
func TestCheckHostCap(t *testing.T) {
	for _, c := range []struct {
		in     string
		max    int
		refuse string
	}{
		{"10.0.0.0/16", 65536, ""},
		{"10.0.0.0/16,db", 65536, "65537 addresses to probe, more than 65536"},
		{"10.0.0.0/8", 65536, "16777216 addresses to probe"},
		{"10.0.0.0/8", 1 << 24, ""},
		{"::/0,::/0", 65536, "more than 18446744073709551615 addresses"},
	} {
		specs, err := ParseHosts(c.in)
		if err != nil {
			t.Fatal(err)
		}
		err = CheckHostCap(specs, c.max)
		if c.refuse == "" {
			if err != nil {
				t.Errorf("%s under a cap of %d: %v", c.in, c.max, err)
			}
			continue
		}
		in := checkInputError(t, err)
		if !strings.Contains(in.Msg, c.refuse) || !strings.Contains(in.Hint, "--max-hosts") {
			t.Errorf("%s under a cap of %d: %q (hint %q), want %q and a hint of --max-hosts", c.in, c.max, in.Msg, in.Hint, c.refuse)
		}
	}
}

func TestParseTargets(t *testing.T) {
	const file = `# the database
db.example 5432
web.example:80,443   # a comment after a target
[::1]:8080

10.0.0.0/30
::1
a,b 22
`
	lines, err := ParseTargets(strings.NewReader(file), "targets.txt", "tcp")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range lines {
		var hosts []string
		for _, h := range l.Hosts {
			hosts = append(hosts, h.String())
		}
		got = append(got, fmt.Sprintf("%s %s %v", l.Where, strings.Join(hosts, ","), l.Ports))
	}
	want := []string{
		"targets.txt:2 db.example [5432]",
		"targets.txt:3 web.example [80 443]",
		"targets.txt:4 ::1 [8080]",
		"targets.txt:6 10.0.0.0/30 []",
		"targets.txt:7 ::1 []", // a bare IPv6 address is a host, not HOST:PORT
		"targets.txt:8 a,b [22]",
	}
	if !slices.Equal(got, want) {
		t.Errorf("ParseTargets:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if lines[3].Ports != nil {
		t.Errorf("a line without ports has %v, want nil (the PORTS argument applies)", lines[3].Ports)
	}
}

// Every bad line is a usage error that names FILE:LINE, with a hint.
func TestParseTargetsErrors(t *testing.T) {
	for _, c := range []struct{ file, want string }{
		{"db 80\nbad host 80 x\n", "t:2: too many fields (4): want HOST, HOST PORTS or HOST:PORT"},
		{"\n\n# c\ndb 0\n", `t:4: bad port "0": port 0 is only for listening`},
		{"db:x\n", `t:1: unknown service "x" for tcp`},
		{"db:x!\n", `t:1: bad port "x!": not a number or a service name`},
		{"db:\n", `t:1: bad address "db:"`},
		{"d!b\n", `t:1: bad host name "d!b"`},
		{"10.0.0.0/40 80\n", `t:1: bad CIDR block "10.0.0.0/40"`},
		{"db 80-70\n", `t:1: bad port range "80-70"`},
		{"# only a comment\n\n", "t: no targets in it"},
		{"", "t: no targets in it"},
		{"db " + strings.Repeat("1", maxLine) + "\n", "t:1: line longer than 64 KiB"},
	} {
		_, err := ParseTargets(strings.NewReader(c.file), "t", "tcp")
		in := checkInputError(t, err)
		if !strings.HasPrefix(in.Msg, c.want) {
			t.Errorf("ParseTargets(%q): %q, want %q", c.file, in.Msg, c.want)
		}
	}
	// A read error is named too, not taken for the end of the file.
	_, err := ParseTargets(iotest.ErrReader(errors.New("input/output error")), "t", "tcp")
	if in := (*InputError)(nil); !errors.As(err, &in) || !strings.Contains(in.Msg, "cannot read t: input/output error") {
		t.Errorf("ParseTargets of a failing reader: %v", err)
	}
}

func TestParsePolicy(t *testing.T) {
	const policy = `# after the change
db.example   5432         open
10.0.0.0/28  22,23        tcp   blocked
NTP          ntp          UDP   Open|Filtered
a,b          80           closed   # trailing comment
`
	rules, err := ParsePolicy(strings.NewReader(policy), "p")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rules {
		got = append(got, fmt.Sprintf("%s %d %v %v %s %s", r.Where, r.Line, r.Hosts, r.Ports, r.Network, r.Expect))
	}
	want := []string{
		"p:2 2 [db.example] [5432] tcp open",
		"p:3 3 [10.0.0.0/28] [22 23] tcp blocked",
		"p:4 4 [NTP] [123] udp open|filtered",
		"p:5 5 [a b] [80] tcp closed",
	}
	if !slices.Equal(got, want) {
		t.Errorf("ParsePolicy:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Every bad rule is a usage error that names FILE:LINE, with a hint.
func TestParsePolicyErrors(t *testing.T) {
	for _, c := range []struct{ file, want string }{
		{"db 80\n", "p:1: want HOST PORTS [tcp|udp] EXPECT, got 2 fields"},
		{"db\n", "p:1: want HOST PORTS [tcp|udp] EXPECT, got 1 field"},
		{"db 80 tcp open now\n", "p:1: want HOST PORTS [tcp|udp] EXPECT, got 5 fields"},
		{"db 80 open\ndb 80 sctp open\n", `p:2: bad protocol "sctp": want tcp or udp`},
		{"db 80 up\n", `p:1: bad expectation "up": want open, closed, filtered, blocked or open|filtered`},
		{"db 80 open|filtered\n", "p:1: open|filtered is a UDP state"},
		{"db 80 tcp open|filtered\n", "p:1: open|filtered is a UDP state"},
		{"d!b 80 open\n", `p:1: bad host name "d!b"`},
		{"10.0.0.0/99 80 open\n", `p:1: bad CIDR block "10.0.0.0/99"`},
		{"db 0 open\n", `p:1: bad port "0"`},
		{"db ntp tcp open\n", `p:1: unknown service "ntp" for tcp`},
		{"# nothing\n", "p: no rules in it"},
	} {
		_, err := ParsePolicy(strings.NewReader(c.file), "p")
		in := checkInputError(t, err)
		if !strings.HasPrefix(in.Msg, c.want) {
			t.Errorf("ParsePolicy(%q): %q, want %q", c.file, in.Msg, c.want)
		}
	}
}

// LineError puts FILE:LINE before the words Explain has for what it wraps.
func TestExplainLineError(t *testing.T) {
	x := Explain(&LineError{Where: "p:3", Err: &InputError{Msg: "192.0.2.0/24 is not an IPv6 block", Hint: "h"}})
	if x.Msg != "p:3: 192.0.2.0/24 is not an IPv6 block" || x.Hint != "h" || !x.Usage {
		t.Errorf("Explain(LineError) = %+v", x)
	}
}

func FuzzParseTargets(f *testing.F) {
	for _, s := range []string{"db 80\n", "[::1]:80\n10.0.0.0/30\n", "# c\n\na,b 1-3\n", "db:\n", "::1/0 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lines, err := ParseTargets(strings.NewReader(s), "f", "tcp")
		if err != nil {
			checkInputError(t, err)
			return
		}
		for _, l := range lines {
			if len(l.Hosts) == 0 || !strings.HasPrefix(l.Where, "f:") || l.Ports != nil && len(l.Ports) == 0 {
				t.Fatalf("ParseTargets(%q) gave %+v", s, l)
			}
		}
	})
}

func FuzzParsePolicy(f *testing.F) {
	for _, s := range []string{"db 80 open\n", "10.0.0.0/28 22 udp blocked\n", "x 1 udp open|filtered", "a 1 b c d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rules, err := ParsePolicy(strings.NewReader(s), "f")
		if err != nil {
			checkInputError(t, err)
			return
		}
		for _, r := range rules {
			if len(r.Hosts) == 0 || len(r.Ports) == 0 || r.Network != "tcp" && r.Network != "udp" ||
				r.Expect == ExpectOpenFiltered && r.Network != "udp" {
				t.Fatalf("ParsePolicy(%q) gave %+v", s, r)
			}
		}
	})
}
