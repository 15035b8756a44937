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

// Seed corpora live in testdata/fuzz/FuzzXxx; `go test` runs them as
// regression cases, `go test -fuzz` starts from them.

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
