package transport

import (
	"errors"
	"math"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// checkInputError fails unless err is an *InputError that can be shown as
// every usage error must be: a one-line message and a hint.
func checkInputError(t *testing.T, err error) *InputError {
	t.Helper()
	var in *InputError
	if !errors.As(err, &in) {
		t.Fatalf("error %v (%T) is not an *InputError", err, err)
	}
	if in.Msg == "" || in.Hint == "" {
		t.Errorf("InputError %+v: Msg and Hint must both be set", in)
	}
	if strings.ContainsAny(in.Msg, "\r\n") || strings.ContainsAny(in.Hint, "\r\n") {
		t.Errorf("InputError %+v: Msg and Hint must be one line each", in)
	}
	return in
}

// checkResult checks the outcome of one table row: an error whose message
// contains wantErr when wantErr is set, and no error otherwise.
func checkResult(t *testing.T, err error, wantErr string) (ok bool) {
	t.Helper()
	if wantErr == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return true
	}
	if err == nil {
		t.Fatalf("no error, want one containing %q", wantErr)
	}
	if in := checkInputError(t, err); !strings.Contains(in.Msg, wantErr) {
		t.Errorf("error %q does not contain %q", in.Msg, wantErr)
	}
	return false
}

func TestParsePort(t *testing.T) {
	tests := []struct {
		in        string
		network   string
		allowZero bool
		want      int
		wantErr   string
	}{
		{in: "80", network: "tcp", want: 80},
		{in: "1", network: "tcp", want: 1},
		{in: "65535", network: "udp", want: 65535},
		{in: "65536", network: "tcp", wantErr: "must be 1-65535"},
		{in: "99999999999999999999999", network: "tcp", wantErr: "must be 1-65535"},
		{in: "0", network: "tcp", wantErr: "only for listening"},
		{in: "0", network: "tcp", allowZero: true, want: 0},
		{in: "000", network: "udp", allowZero: true, want: 0},
		{in: "0080", network: "tcp", want: 80},
		{in: "00000000000000000000022", network: "tcp", want: 22},
		{in: "http", network: "tcp", want: 80},
		{in: "ssh", network: "tcp", want: 22},
		{in: "domain", network: "tcp", want: 53},
		{in: "domain", network: "udp", want: 53},
		{in: "http", network: "", want: 80}, // unknown network reads as tcp
		{in: "nosuchservice", network: "tcp", wantErr: `unknown service "nosuchservice" for tcp`},
		{in: "", network: "tcp", wantErr: "missing port"},
		{in: "-1", network: "tcp", wantErr: "not a number or a service name"},
		{in: "+80", network: "tcp", wantErr: "not a number or a service name"},
		{in: "80a", network: "tcp", wantErr: "not a number or a service name"},
		{in: " 80", network: "tcp", wantErr: "not a number or a service name"},
		{in: "80 ", network: "tcp", wantErr: "not a number or a service name"},
		{in: "0x50", network: "tcp", wantErr: "not a number or a service name"},
		{in: "8_0", network: "tcp", wantErr: "not a number or a service name"},
		{in: "http/tcp", network: "tcp", wantErr: "not a number or a service name"},
		{in: "٨٠", network: "tcp", wantErr: "not a number or a service name"}, // Arabic-Indic 80
		{in: "８０", network: "tcp", wantErr: "not a number or a service name"}, // fullwidth 80
		{in: "htṫp", network: "tcp", wantErr: "not a number or a service name"},
		{in: "a\nb", network: "tcp", wantErr: `"a\nb"`},
		{in: strings.Repeat("a", 65), network: "tcp", wantErr: "not a number or a service name"},
	}
	for _, tt := range tests {
		t.Run(tt.network+"/"+tt.in, func(t *testing.T) {
			got, err := ParsePort(tt.in, tt.network, tt.allowZero)
			if checkResult(t, err, tt.wantErr) && got != tt.want {
				t.Errorf("ParsePort(%q, %q, %v) = %d, want %d", tt.in, tt.network, tt.allowZero, got, tt.want)
			}
		})
	}
}

func TestParsePorts(t *testing.T) {
	tests := []struct {
		in      string
		want    []int
		wantErr string
	}{
		{in: "22", want: []int{22}},
		{in: "20-25", want: []int{20, 21, 22, 23, 24, 25}},
		{in: "22,80,443", want: []int{22, 80, 443}},
		{in: "443,80,22", want: []int{22, 80, 443}},
		{in: "http,8000-8002", want: []int{80, 8000, 8001, 8002}},
		{in: "22,22,http,80", want: []int{22, 80}},
		{in: "22-24,20-23", want: []int{20, 21, 22, 23, 24}},
		{in: " 22 , 80 ", want: []int{22, 80}},
		{in: "7-7", want: []int{7}},
		{in: "65535", want: []int{65535}},
		{in: "ssh-22", want: []int{22}},
		{in: "25-20", wantErr: `bad port range "25-20": 25 is above 20`},
		{in: "-5", wantErr: "both ends are needed"},
		{in: "5-", wantErr: "both ends are needed"},
		{in: "-", wantErr: "both ends are needed"},
		{in: "1-2-3", wantErr: `bad port "2-3"`},
		{in: "0-5", wantErr: "only for listening"},
		{in: "65535-65536", wantErr: "must be 1-65535"},
		{in: "22,,80", wantErr: "missing port"},
		{in: "22;80", wantErr: `bad port "22;80"`},
		{in: "22,nosuchservice", wantErr: "unknown service"},
		{in: "", wantErr: "missing port list"},
		{in: " \t", wantErr: "missing port list"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParsePorts(tt.in, "tcp")
			if checkResult(t, err, tt.wantErr) && !slices.Equal(got, tt.want) {
				t.Errorf("ParsePorts(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParsePortsFullRange(t *testing.T) {
	got, err := ParsePorts("1-65535", "tcp")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 65535 || got[0] != 1 || got[len(got)-1] != 65535 || !slices.IsSorted(got) {
		t.Errorf("ParsePorts(1-65535): %d ports from %d to %d, want 65535 from 1 to 65535", len(got), got[0], got[len(got)-1])
	}
}

// A service whose name holds a '-' is a service, not a range of two names.
// Such names come from /etc/services, so the test runs only where the
// system knows them.
func TestParsePortsHyphenatedService(t *testing.T) {
	for _, name := range []string{"ftp-data", "http-alt"} {
		want, err := ParsePort(name, "tcp", false)
		if err != nil {
			t.Logf("%s: not a known service here, skipped", name)
			continue
		}
		got, err := ParsePorts("22,"+name, "tcp")
		if err != nil {
			t.Errorf("ParsePorts(22,%s): %v", name, err)
			continue
		}
		if wantList := []int{min(22, want), max(22, want)}; !slices.Equal(got, wantList) {
			t.Errorf("ParsePorts(22,%s) = %v, want %v", name, got, wantList)
		}
	}
	// Two services joined by '-' still make a range.
	got, err := ParsePorts("ssh-http", "tcp")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 80-22+1 || got[0] != 22 || got[len(got)-1] != 80 {
		t.Errorf("ParsePorts(ssh-http) = %v, want 22..80", got)
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{in: "500ms", want: 500 * time.Millisecond},
		{in: "2s", want: 2 * time.Second},
		{in: "1m30s", want: 90 * time.Second},
		{in: "1h", want: time.Hour},
		{in: "-1s", want: -time.Second},
		{in: "3", want: 3 * time.Second},
		{in: "0", want: 0},
		{in: "0.5", want: 500 * time.Millisecond},
		{in: ".5", want: 500 * time.Millisecond},
		{in: "+3", want: 3 * time.Second},
		{in: "-1", want: -time.Second},
		{in: "-0.5", want: -500 * time.Millisecond},
		{in: " 2s ", want: 2 * time.Second},
		{in: "\t3\n", want: 3 * time.Second},
		{in: "1e3", want: 1000 * time.Second},
		// Bare numbers are rounded to the nanosecond, not truncated: in
		// floating point 1.001 s is 1000999999.9999999 ns.
		{in: "1.001", want: 1001 * time.Millisecond},
		{in: "0.3", want: 300 * time.Millisecond},
		{in: "4.35", want: 4350 * time.Millisecond},
		{in: "0.000000001", want: time.Nanosecond},
		{in: "9223372036", want: 9223372036 * time.Second},
		// The largest duration is 9223372036.854775807 s; the nearest
		// float64 is 2^63 ns, which must not wrap around to a negative.
		{in: "9223372036.854775807", wantErr: "too long"},
		{in: "-9223372037", wantErr: "too long"},
		{in: "1e400", wantErr: "too long"},
		{in: "-1e400", wantErr: "too long"},
		{in: "2562048h", wantErr: `bad duration "2562048h"`},
		{in: "", wantErr: "missing duration"},
		{in: "  ", wantErr: "missing duration"},
		{in: "abc", wantErr: `bad duration "abc"`},
		{in: "3 s", wantErr: `bad duration "3 s"`},
		{in: "2sec", wantErr: `bad duration "2sec"`},
		{in: "inf", wantErr: `bad duration "inf"`},
		{in: "+Inf", wantErr: `bad duration "+Inf"`},
		{in: "infinity", wantErr: `bad duration "infinity"`},
		{in: "NaN", wantErr: `bad duration "NaN"`},
		{in: "nan", wantErr: `bad duration "nan"`},
		{in: "0x10", wantErr: `bad duration "0x10"`},
		{in: "0x1p4", wantErr: `bad duration "0x1p4"`},
		{in: "1_000", wantErr: `bad duration "1_000"`},
		{in: "1\n2", wantErr: `bad duration "1\n2"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDuration(tt.in)
			if checkResult(t, err, tt.wantErr) && got != tt.want {
				t.Errorf("ParseDuration(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestSplitTarget(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		portFlag string
		listen   bool
		want     Target
		wantErr  string
	}{
		// connect
		{name: "host port", args: []string{"example.com", "80"}, want: Target{"example.com", "80"}},
		{name: "host:port", args: []string{"example.com:80"}, want: Target{"example.com", "80"}},
		{name: "service port", args: []string{"example.com", "http"}, want: Target{"example.com", "http"}},
		{name: "ipv4", args: []string{"192.0.2.1", "80"}, want: Target{"192.0.2.1", "80"}},
		{name: "ipv4:port", args: []string{"192.0.2.1:80"}, want: Target{"192.0.2.1", "80"}},
		{name: "[v6]:port", args: []string{"[::1]:80"}, want: Target{"::1", "80"}},
		{name: "v6 port", args: []string{"::1", "80"}, want: Target{"::1", "80"}},
		{name: "[v6] port", args: []string{"[::1]", "80"}, want: Target{"::1", "80"}},
		{name: "v6 zone", args: []string{"fe80::1%eth0", "80"}, want: Target{"fe80::1%eth0", "80"}},
		{name: "[v6 zone]:port", args: []string{"[fe80::1%eth0]:80"}, want: Target{"fe80::1%eth0", "80"}},
		{name: "numeric zone", args: []string{"fe80::1%2", "80"}, want: Target{"fe80::1%2", "80"}},
		{name: "trailing dot", args: []string{"example.com.", "80"}, want: Target{"example.com.", "80"}},
		{name: "underscore", args: []string{"_srv.example.com", "80"}, want: Target{"_srv.example.com", "80"}},
		// A dotted name that is not an IP address is still a legal DNS
		// name: it goes to the resolver, which answers "no such host".
		{name: "five numbers", args: []string{"1.2.3.4.5", "80"}, want: Target{"1.2.3.4.5", "80"}},
		// Four numbers or fewer are an IPv4 address, never a name.
		{name: "octet above 255", args: []string{"256.1.1.1", "80"}, wantErr: "256 is more than 255"},
		{name: "last octet above 255", args: []string{"1.1.1.256", "80"}, wantErr: "256 is more than 255"},
		// The port is checked later, by ParsePort with the right network.
		{name: "port unchecked", args: []string{"example.com", "99999"}, want: Target{"example.com", "99999"}},
		{name: "no args", args: nil, wantErr: "missing host and port"},
		{name: "host only", args: []string{"example.com"}, wantErr: `not "example.com" alone`},
		{name: "v6 only", args: []string{"::1"}, wantErr: `not "::1" alone`},
		{name: "host colon", args: []string{"example.com:"}, wantErr: "missing port"},
		{name: "three args", args: []string{"a", "b", "c"}, wantErr: `too many arguments: "c"`},
		{name: "four args", args: []string{"a", "80", "c", "d"}, wantErr: `too many arguments: "c d"`},
		{name: "newline arg", args: []string{"a", "80", "c\nd"}, wantErr: `too many arguments: "c\nd"`},
		{name: "space in name", args: []string{"exa mple.com", "80"}, wantErr: `' ' is not allowed`},
		{name: "slash in name", args: []string{"example.com/x", "80"}, wantErr: `'/' is not allowed`},
		{name: "unicode name", args: []string{"exämple.com", "80"}, wantErr: `'ä' is not allowed`},
		{name: "host:port and port", args: []string{"example.com:80", "80"}, wantErr: `bad address "example.com:80"`},
		{name: "open bracket", args: []string{"[::1", "80"}, wantErr: `bad address "[::1"`},
		{name: "close bracket", args: []string{"::1]", "80"}, wantErr: `bad address "::1]"`},
		{name: "bracketed name", args: []string{"[example.com]", "80"}, wantErr: `bad IPv6 address "[example.com]"`},
		{name: "[name]:port", args: []string{"[example.com]:80"}, wantErr: `bad IPv6 address "[example.com]"`},
		{name: "empty brackets", args: []string{"[]", "80"}, wantErr: `bad IPv6 address "[]"`},
		{name: "bad v6", args: []string{"1::2::3", "80"}, wantErr: `bad address "1::2::3"`},
		{name: "empty zone", args: []string{"fe80::1%", "80"}, wantErr: `bad address "fe80::1%"`},
		{name: "zone with space", args: []string{"fe80::1%eth 0", "80"}, wantErr: `bad zone "eth 0"`},
		{name: "zone with newline", args: []string{"fe80::1%eth0\n", "80"}, wantErr: `bad zone "eth0\n"`},
		{name: "bracketed zone with newline", args: []string{"[fe80::1%a\nb]", "80"}, wantErr: `bad zone "a\nb"`},
		{name: "ipv4 with zone", args: []string{"192.0.2.1%eth0", "80"}, wantErr: `'%' is not allowed`},
		{name: "long name", args: []string{strings.Repeat("a", 254), "80"}, wantErr: "longer than 253"},

		// short IPv4 forms, as inet_aton reads them for nc and ncat
		{name: "a.b", args: []string{"127.1", "80"}, want: Target{"127.0.0.1", "80"}},
		{name: "a.b:port", args: []string{"127.1:80"}, want: Target{"127.0.0.1", "80"}},
		{name: "a.b.c", args: []string{"10.0.1", "80"}, want: Target{"10.0.0.1", "80"}},
		{name: "a.b.c 16 bits", args: []string{"10.1.258", "80"}, want: Target{"10.1.1.2", "80"}},
		{name: "a.b 24 bits", args: []string{"10.65538", "80"}, want: Target{"10.1.0.2", "80"}},
		{name: "a", args: []string{"2130706433", "80"}, want: Target{"127.0.0.1", "80"}},
		{name: "zero", args: []string{"0", "80"}, want: Target{"0.0.0.0", "80"}},
		{name: "octal", args: []string{"010.1", "80"}, wantErr: `ambiguous IPv4 address "010.1": nc would read "010" as octal`},
		{name: "octal quad", args: []string{"10.0.0.01", "80"}, wantErr: `nc would read "01" as octal`},
		{name: "hex", args: []string{"0x7f.1", "80"}, wantErr: `nc would read "0x7f" as hexadecimal`},
		{name: "a.b too big", args: []string{"127.16777216", "80"}, wantErr: "16777216 does not fit in its 3 bytes"},
		{name: "a too big", args: []string{"4294967296", "80"}, wantErr: `bad IPv4 address "4294967296"`},
		{name: "a.b first too big", args: []string{"256.1", "80"}, wantErr: "256 is more than 255"},
		// URLs
		{name: "http URL", args: []string{"http://example.com:8080"}, wantErr: `"http://example.com:8080" is a URL: sonde takes a host and a port, not a URL`},
		{name: "https URL", args: []string{"https://example.com/x"}, wantErr: "is a URL"},
		{name: "URL port", args: []string{"http://example.com", "80"}, wantErr: "is a URL"},
		{name: "listen URL", args: []string{"http://:8080"}, listen: true, wantErr: "is a URL"},

		// listen
		{name: "listen port", args: []string{"8080"}, listen: true, want: Target{"", "8080"}},
		{name: "listen port 0", args: []string{"0"}, listen: true, want: Target{"", "0"}},
		{name: "listen service", args: []string{"http"}, listen: true, want: Target{"", "http"}},
		{name: "listen host port", args: []string{"127.0.0.1", "8080"}, listen: true, want: Target{"127.0.0.1", "8080"}},
		{name: "listen :port", args: []string{":8080"}, listen: true, want: Target{"", "8080"}},
		{name: "listen host:port", args: []string{"127.0.0.1:8080"}, listen: true, want: Target{"127.0.0.1", "8080"}},
		{name: "listen [v6]:port", args: []string{"[::1]:8080"}, listen: true, want: Target{"::1", "8080"}},
		{name: "listen -p", args: nil, portFlag: "8080", listen: true, want: Target{"", "8080"}},
		{name: "listen host -p", args: []string{"127.0.0.1"}, portFlag: "8080", listen: true, want: Target{"127.0.0.1", "8080"}},
		{name: "listen [v6] -p", args: []string{"[::1]"}, portFlag: "8080", listen: true, want: Target{"::1", "8080"}},
		{name: "listen nothing", args: nil, listen: true, wantErr: "missing host and port"},
		{name: "listen name only", args: []string{"localhost"}, listen: true, wantErr: `missing port in "localhost"`},
		{name: "listen port twice", args: []string{"127.0.0.1", "8080"}, portFlag: "8081", listen: true, wantErr: `the port is given twice: -p "8081" and "8080"`},
		{name: "listen port twice newline", args: []string{"127.0.0.1", "8080"}, portFlag: "80\n81", listen: true, wantErr: `-p "80\n81"`},
		{name: "listen host:port -p", args: []string{"127.0.0.1:8080"}, portFlag: "8080", listen: true, wantErr: `bad address "127.0.0.1:8080"`},
		{name: "listen three args", args: []string{"a", "b", "c"}, listen: true, wantErr: "too many arguments"},
		{name: "listen bad host", args: []string{"exa mple", "8080"}, listen: true, wantErr: "is not allowed"},
		// -p is the source port when connecting; SplitTarget ignores it.
		{name: "connect -p", args: []string{"example.com", "80"}, portFlag: "4444", want: Target{"example.com", "80"}},
		{name: "connect -p only", args: nil, portFlag: "4444", wantErr: "missing host and port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SplitTarget(tt.args, tt.portFlag, tt.listen)
			if checkResult(t, err, tt.wantErr) && got != tt.want {
				t.Errorf("SplitTarget(%q, %q, %v) = %+v, want %+v", tt.args, tt.portFlag, tt.listen, got, tt.want)
			}
		})
	}
}

// A lone listen argument that names a service of either protocol is a
// port: "sonde -lu ntp" listens on 123/udp, though ntp has no TCP port.
func TestSplitTargetUDPOnlyService(t *testing.T) {
	if _, err := ParsePort("ntp", "udp", false); err != nil {
		t.Skip("ntp is not a known UDP service here")
	}
	if _, err := ParsePort("ntp", "tcp", false); err == nil {
		t.Skip("ntp is a known TCP service here too")
	}
	got, err := SplitTarget([]string{"ntp"}, "", true)
	if err != nil || got != (Target{Port: "ntp"}) {
		t.Errorf("SplitTarget([ntp], listen) = %+v, %v; want port ntp", got, err)
	}
}

func TestSplitHostPort(t *testing.T) {
	tests := []struct {
		in      string
		want    Target
		wantErr string
	}{
		{in: "127.0.0.1:8080", want: Target{"127.0.0.1", "8080"}},
		{in: "example.com:80", want: Target{"example.com", "80"}},
		{in: "example.com:http", want: Target{"example.com", "http"}},
		{in: "[::1]:8080", want: Target{"::1", "8080"}},
		{in: "[fe80::1%eth0]:8080", want: Target{"fe80::1%eth0", "8080"}},
		{in: ":8080", want: Target{"", "8080"}},
		{in: "", wantErr: `bad address "": want HOST:PORT`},
		{in: "localhost", wantErr: `bad address "localhost"`},
		{in: "8080", wantErr: `bad address "8080"`},
		{in: "example.com:", wantErr: `bad address "example.com:"`},
		{in: "[::1]", wantErr: `bad address "[::1]"`},
		{in: "[::1]:", wantErr: `bad address "[::1]:"`},
		{in: "::1:80", wantErr: `bad address "::1:80"`},
		{in: "[::1:80", wantErr: `bad address "[::1:80"`},
		{in: "[example.com]:80", wantErr: `bad IPv6 address "[example.com]"`},
		{in: "[1::2::3]:80", wantErr: `bad IPv6 address "[1::2::3]"`},
		{in: "[fe80::1%a b]:80", wantErr: `bad zone "a b"`},
		{in: "exa mple.com:80", wantErr: `' ' is not allowed`},
		{in: "a\nb:80", wantErr: `'\n' is not allowed`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := SplitHostPort(tt.in)
			if checkResult(t, err, tt.wantErr) && got != tt.want {
				t.Errorf("SplitHostPort(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

// The fuzz targets' seed corpora live in testdata/fuzz/FuzzXxx; `go test`
// runs them as regression cases, `go test -fuzz` starts from them.

// checkFuzzError is checkInputError for fuzz targets: any error a parser
// returns must be an *InputError with a one-line message and a hint.
func checkFuzzError(t *testing.T, err error) {
	t.Helper()
	var in *InputError
	if !errors.As(err, &in) {
		t.Fatalf("error %v (%T) is not an *InputError", err, err)
	}
	if in.Msg == "" || in.Hint == "" || strings.ContainsAny(in.Msg, "\r\n") {
		t.Fatalf("InputError %q (hint %q): want a one-line message and a hint", in.Msg, in.Hint)
	}
}

func FuzzParsePort(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string, udp, allowZero bool) {
		network := "tcp"
		if udp {
			network = "udp"
		}
		p, err := ParsePort(s, network, allowZero)
		if err != nil {
			checkFuzzError(t, err)
			return
		}
		if p < 0 || p > 65535 || p == 0 && !allowZero {
			t.Fatalf("ParsePort(%q, %s, %v) = %d: out of range", s, network, allowZero, p)
		}
		if isDigits(s) {
			if n, _ := strconv.Atoi(s); n != p {
				t.Fatalf("ParsePort(%q) = %d, want %d", s, p, n)
			}
		}
		// What is valid when connecting is valid when listening.
		if q, err := ParsePort(s, network, true); err != nil || q != p {
			t.Fatalf("ParsePort(%q, %s, true) = %d, %v; with allowZero=%v it was %d", s, network, q, err, allowZero, p)
		}
	})
}

func FuzzParsePorts(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string, udp bool) {
		if len(s) > 64 {
			t.Skip("long lists only repeat what short ones test, slowly")
		}
		network := "tcp"
		if udp {
			network = "udp"
		}
		ports, err := ParsePorts(s, network)
		if err != nil {
			checkFuzzError(t, err)
			return
		}
		if len(ports) == 0 {
			t.Fatalf("ParsePorts(%q): no ports and no error", s)
		}
		for i, p := range ports {
			if p < 1 || p > 65535 {
				t.Fatalf("ParsePorts(%q): port %d out of range", s, p)
			}
			if i > 0 && ports[i-1] >= p {
				t.Fatalf("ParsePorts(%q) = %v...: not sorted and unique at %d", s, ports[:min(len(ports), 10)], i)
			}
		}
		// A single port parses as ParsePort does.
		if item := strings.TrimSpace(s); !strings.ContainsAny(item, ",-") {
			if p, err := ParsePort(item, network, false); err != nil || !slices.Equal(ports, []int{p}) {
				t.Fatalf("ParsePorts(%q) = %v, but ParsePort gives %d, %v", s, ports, p, err)
			}
		}
	})
}

func FuzzParseDuration(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			checkFuzzError(t, err)
			return
		}
		trimmed := strings.TrimSpace(s)
		secs, ferr := strconv.ParseFloat(trimmed, 64)
		if ferr != nil {
			// Go syntax: exactly what time.ParseDuration says.
			if want, err := time.ParseDuration(trimmed); err != nil || d != want {
				t.Fatalf("ParseDuration(%q) = %v, time.ParseDuration gives %v, %v", s, d, want, err)
			}
			return
		}
		// A bare number of seconds: the nearest nanosecond, same sign.
		want := secs * float64(time.Second)
		if math.IsNaN(want) || math.IsInf(want, 0) {
			t.Fatalf("ParseDuration(%q) = %v, want an error", s, d)
		}
		if secs > 0 && d < 0 || secs < 0 && d > 0 {
			t.Fatalf("ParseDuration(%q) = %v: wrong sign", s, d)
		}
		if diff := math.Abs(float64(d) - want); diff > 0.5 && diff > math.Abs(want)*1e-15 {
			t.Fatalf("ParseDuration(%q) = %v, want about %g ns", s, d, want)
		}
	})
}

// checkHost checks a host SplitTarget or SplitHostPort accepted: printable
// on one line, free of brackets, and read back the same.
func checkHost(t *testing.T, host string) {
	t.Helper()
	for _, r := range host {
		if r <= ' ' || r >= 0x7f || r == '[' || r == ']' {
			t.Fatalf("accepted host %q holds %q", host, r)
		}
	}
	if again, err := cleanHost(host); err != nil || again != host {
		t.Fatalf("host %q reads back as %q, %v", host, again, err)
	}
	if _, err := netip.ParseAddr(host); err != nil && len(host) > 253 {
		t.Fatalf("accepted host %q is longer than 253 bytes and no IP address", host)
	}
}

func FuzzSplitTarget(f *testing.F) {
	f.Fuzz(func(t *testing.T, line, portFlag string, listening bool) {
		var args []string
		if line != "" {
			args = strings.Split(line, " ")
		}
		tg, err := SplitTarget(args, portFlag, listening)
		if err != nil {
			checkFuzzError(t, err)
			return
		}
		checkHost(t, tg.Host)
		// Fed back as HOST PORT, a target reads the same.
		if again, err := SplitTarget([]string{tg.Host, tg.Port}, "", listening); err != nil || again != tg {
			t.Fatalf("SplitTarget(%q) = %+v, but %q %q gives %+v, %v", args, tg, tg.Host, tg.Port, again, err)
		}
		// And as HOST:PORT, with brackets where the host needs them.
		if isDigits(tg.Port) {
			if again, err := SplitHostPort(net.JoinHostPort(tg.Host, tg.Port)); err != nil || again != tg {
				t.Fatalf("SplitTarget(%q) = %+v, but HOST:PORT gives %+v, %v", args, tg, again, err)
			}
		}
	})
}

func FuzzSplitHostPort(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		tg, err := SplitHostPort(s)
		if err != nil {
			checkFuzzError(t, err)
			return
		}
		if tg.Port == "" {
			t.Fatalf("SplitHostPort(%q) = %+v: empty port", s, tg)
		}
		checkHost(t, tg.Host)
		joined := net.JoinHostPort(tg.Host, tg.Port)
		if again, err := SplitHostPort(joined); err != nil || again != tg {
			t.Fatalf("SplitHostPort(%q) = %+v, but %q gives %+v, %v", s, tg, joined, again, err)
		}
	})
}

// FuzzParseHost: -s and positional hosts. An accepted host is the input,
// brackets removed (a short IPv4 form: its dotted quad); it is clean (checkHost), a fixed point, and fits in
// HOST:PORT.
// The hints of URLs name the HOST PORT the URL meant.
func TestURLHint(t *testing.T) {
	for _, tc := range []struct{ url, hint string }{
		{"http://example.com:8080", "give HOST PORT: sonde example.com 8080"},
		{"http://example.com/", "give HOST PORT: sonde example.com 80"},
		{"https://example.com", "give HOST PORT: sonde --tls example.com 443"},
		{"https://[::1]:8443/x", "give HOST PORT: sonde --tls [::1] 8443"},
		{"ftp://example.com", "give HOST PORT: sonde example.com PORT"},
		{"http://", "give HOST PORT, e.g. sonde example.com 80"},
	} {
		var in *InputError
		_, err := ParseHost(tc.url)
		if !errors.As(err, &in) || in.Hint != tc.hint {
			t.Errorf("ParseHost(%q): %v, want the hint %q", tc.url, err, tc.hint)
		}
	}
	for _, notURL := range []string{"example.com", "a:b", "[::1]"} {
		if err := urlError(notURL); err != nil {
			t.Errorf("urlError(%q) = %v", notURL, err)
		}
	}
}

func FuzzParseHost(f *testing.F) {
	for _, s := range []string{"", "example.com", "[::1]", "[1.2.3.4]", "fe80::1%eth0", "[fe80::1%25]", "a_b-c.d", "exa mple", "[x]", "::ffff:1.2.3.4", "1.2.3.4%eth0", "127.1", "2130706433", "010.1", "0x7f.1", "http://h:80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseHost(s)
		if err != nil {
			checkFuzzError(t, err)
			return
		}
		want := s
		if ip, ok, _ := shortIPv4(s); ok {
			want = ip // 127.1 is 127.0.0.1
		}
		if len(s) >= 2 && s[0] == '[' && s[len(s)-1] == ']' {
			want = s[1 : len(s)-1]
			if _, err := netip.ParseAddr(want); err != nil {
				t.Fatalf("ParseHost(%q) = %q: brackets around no IP address", s, h)
			}
		}
		if h != want {
			t.Fatalf("ParseHost(%q) = %q, want %q", s, h, want)
		}
		checkHost(t, h)
		if h == "" {
			return
		}
		// A name never holds ':', so HOST:PORT splits back to it.
		joined := net.JoinHostPort(h, "80")
		if tg, err := SplitHostPort(joined); err != nil || tg != (Target{Host: h, Port: "80"}) {
			t.Fatalf("ParseHost(%q) = %q, but %q splits to %+v, %v", s, h, joined, tg, err)
		}
	})
}
