package main

import (
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/sondeproject/sonde/transport"
)

// Every malformed relay command line is one error line (and a hint),
// exit 2, before anything listens.
func TestRelayUsageErrors(t *testing.T) {
	cases := [][]string{
		{"relay"},
		{"relay", ":8080"},
		{"relay", ":8080", "h:80", "extra"},
		{"relay", "-U", "/tmp/a.sock", "/tmp/b.sock"},
		{"relay", "-l", ":0", "h:80"},
		{"relay", "--nope", ":0", "h:80"},
		{"relay", ":0", ":80"},
		{"relay", ":0", "h"},
		{"relay", ":0", "h:"},
		{"relay", ":0", "h:0"},
		{"relay", ":0", "h:70000"},
		{"relay", ":0", "h:nosuchservice"},
		{"relay", "nonsense", "h:80"},
		{"relay", ":70000", "h:80"},
		{"relay", "[::1:80", "h:80"},
		{"relay", ":0", "exa mple.com:80"},
		{"relay", "-4", "-6", ":0", "h:80"},
		{"relay", "--max-conns", "-1", ":0", "h:80"},
		{"relay", "-w", "soon", ":0", "h:80"},
		{"relay", "--idle-timeout", "-1s", ":0", "h:80"},
		{"relay", "-n", "127.0.0.1:0", "example.com:80"},
		{"relay", "-4", "127.0.0.1:0", "[::1]:80"},
		{"relay", "--deny", "10.0.0.0/99", ":0", "h:80"},
		{"relay", "--color", "purple", ":0", "h:80"},
	}
	for _, args := range cases {
		if stderr := checkUsageError(t, args); strings.Contains(stderr, "listening on") {
			t.Errorf("sonde %q: listened before reporting the usage error:\n%s", args, stderr)
		}
	}
}

// The forms LISTEN may take: [HOST]:PORT, [v6]:PORT, or a bare PORT.
func TestRelayAddress(t *testing.T) {
	for _, tc := range []struct {
		in, host, port string
	}{
		{":8080", "", "8080"},
		{"8080", "", "8080"},
		{"127.0.0.1:0", "127.0.0.1", "0"},
		{"[::1]:9000", "::1", "9000"},
		{"localhost:http", "localhost", "http"},
	} {
		got, err := relayAddress("LISTEN", tc.in, true)
		if err != nil || got.Host != tc.host || got.Port != tc.port {
			t.Errorf("LISTEN %q: got %+v, %v; want host %q port %q", tc.in, got, err, tc.host, tc.port)
		}
	}
	if _, err := relayAddress("TARGET", "8080", false); err == nil {
		t.Error("TARGET 8080 (no host) accepted")
	}
}

// FuzzRelayAddress: relay's LISTEN and TARGET. An accepted address has a
// port, a clean host (a fixed point of ParseHost), a host unless it is
// LISTEN, and reads back the same as HOST:PORT; a bare number is a LISTEN
// port on every address.
func FuzzRelayAddress(f *testing.F) {
	for _, s := range []string{"127.0.0.1:8080", "[::1]:80", ":8080", "8080", "example.com:http", "[fe80::1%eth0]:22", "::1:80", "host:", "[::1]", "a b:1", "0"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, listen bool) {
		what := "TARGET"
		if listen {
			what = "LISTEN"
		}
		tg, err := relayAddress(what, s, listen)
		if err != nil {
			var in *transport.InputError
			if !errors.As(err, &in) || in.Msg == "" || in.Hint == "" || strings.ContainsAny(in.Msg+in.Hint, "\r\n") {
				t.Fatalf("relayAddress(%q, %v): error %q (%T): want a one-line *InputError with a hint", s, listen, err, err)
			}
			return
		}
		if tg.Port == "" || !listen && tg.Host == "" {
			t.Fatalf("relayAddress(%q, %v) = %+v: missing host or port", s, listen, tg)
		}
		if h, err := transport.ParseHost(tg.Host); err != nil || h != tg.Host {
			t.Fatalf("relayAddress(%q, %v) = %+v: host reads as %q, %v", s, listen, tg, h, err)
		}
		joined := net.JoinHostPort(tg.Host, tg.Port)
		if again, err := relayAddress(what, joined, listen); err != nil || again != tg {
			t.Fatalf("relayAddress(%q, %v) = %+v, but %q gives %+v, %v", s, listen, tg, joined, again, err)
		}
		if listen && strings.Trim(s, "0123456789") == "" && tg != (transport.Target{Port: s}) {
			t.Fatalf("relayAddress(%q, LISTEN) = %+v, want every address, port %s", s, tg, s)
		}
	})
}

// A relay on every interface toward loopback hands the network a service
// only this machine could reach; on one address, or toward another host,
// it does not.
func TestExposesLocalOnly(t *testing.T) {
	tests := []struct {
		listen, target string
		want           bool
	}{
		{"", "127.0.0.1", true},
		{"0.0.0.0", "127.0.0.2", true},
		{"::", "::1", true},
		{"", "::ffff:127.0.0.1", true},
		{"", "localhost", true},
		{"::", "LOCALHOST.", true},
		{"", "db.localhost", true},
		{"127.0.0.1", "127.0.0.1", false},
		{"::1", "localhost", false},
		{"192.0.2.1", "127.0.0.1", false},
		{"myhost", "127.0.0.1", false},
		{"", "192.0.2.1", false},
		{"", "example.com", false},
		{"", "notlocalhost", false},
	}
	for _, tt := range tests {
		if got := exposesLocalOnly(tt.listen, tt.target); got != tt.want {
			t.Errorf("exposesLocalOnly(%q, %q) = %v, want %v", tt.listen, tt.target, got, tt.want)
		}
	}
}
