package transport

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// InputError is a problem with what the user typed. It maps to exit status 2.
type InputError struct {
	Msg  string // what was wrong, e.g. `bad port "70000": must be 1-65535`
	Hint string // a valid example or what to try instead; may be empty
}

func (e *InputError) Error() string { return e.Msg }

func badInput(hint, format string, args ...any) *InputError {
	return &InputError{Msg: fmt.Sprintf(format, args...), Hint: hint}
}

// ParsePort parses a port number or a service name ("http") for network
// ("tcp" or "udp"). Port 0 is accepted only when allowZero is set (listening).
func ParsePort(s, network string, allowZero bool) (int, error) {
	const hint = "a port is a number from 1 to 65535 or a service name, e.g. 8080 or http"
	if s == "" {
		return 0, badInput(hint, "missing port")
	}
	if isDigits(s) {
		n, err := strconv.Atoi(s)
		if err != nil || n > 65535 {
			return 0, badInput(hint, "bad port %q: must be 1-65535", s)
		}
		if n == 0 && !allowZero {
			return 0, badInput(hint, "bad port %q: port 0 is only for listening (it picks a free port)", s)
		}
		return n, nil
	}
	if !isServiceName(s) {
		return 0, badInput(hint, "bad port %q: not a number or a service name", s)
	}
	if network != "udp" {
		network = "tcp"
	}
	n, err := net.LookupPort(network, s)
	if err != nil || n == 0 {
		return 0, badInput(hint, "unknown service %q for %s", s, network)
	}
	return n, nil
}

// ParsePorts parses a scan list such as "22", "20-25", "22,80,443" or
// "http,8000-8010". The result is sorted and free of duplicates.
func ParsePorts(s, network string) ([]int, error) {
	const hint = "give ports as a list and/or ranges, e.g. 22,80,443 or 1-1024"
	if strings.TrimSpace(s) == "" {
		return nil, badInput(hint, "missing port list")
	}
	seen := make(map[int]bool)
	var ports []int
	add := func(p int) {
		if !seen[p] {
			seen[p] = true
			ports = append(ports, p)
		}
	}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		// Service names may contain '-' ("http-alt", "ftp-data"): a whole
		// item that names a service is that service, not a range.
		if strings.Contains(item, "-") && isServiceName(item) {
			if p, err := ParsePort(item, network, false); err == nil {
				add(p)
				continue
			}
		}
		lo, hi, isRange := strings.Cut(item, "-")
		if !isRange {
			p, err := ParsePort(item, network, false)
			if err != nil {
				return nil, err
			}
			add(p)
			continue
		}
		if lo == "" || hi == "" {
			return nil, badInput(hint, "bad port range %q: both ends are needed", item)
		}
		first, err := ParsePort(lo, network, false)
		if err != nil {
			return nil, err
		}
		last, err := ParsePort(hi, network, false)
		if err != nil {
			return nil, err
		}
		if first > last {
			return nil, badInput(hint, "bad port range %q: %d is above %d", item, first, last)
		}
		for p := first; p <= last; p++ {
			add(p)
		}
	}
	sort.Ints(ports)
	return ports, nil
}

// ParseDuration accepts Go syntax ("500ms", "2s", "1m30s") or a bare number
// of seconds ("3", "0.5"), as netcat users type it. A leading "-" gives a
// negative duration, which some flags read as "never".
func ParseDuration(s string) (time.Duration, error) {
	const hint = "give a duration like 500ms, 2s or 1m, or a number of seconds like 3"
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, badInput(hint, "missing duration")
	}
	if f, err := strconv.ParseFloat(t, 64); !strings.ContainsAny(t, "xXpPnN_") && (err == nil || errors.Is(err, strconv.ErrRange)) {
		// Round, not truncate: 1.001 * 1e9 is 1000999999.9999999 in
		// floating point. The bound is checked after rounding, on the value
		// converted, because converting 2^63 or more to int64 wraps around.
		ns := math.Round(f * float64(time.Second))
		if err != nil || ns >= 1<<63 || ns < -(1<<63) {
			return 0, badInput(hint, "bad duration %q: too long", s)
		}
		return time.Duration(ns), nil
	}
	d, err := time.ParseDuration(t)
	if err != nil {
		return 0, badInput(hint, "bad duration %q", s)
	}
	return d, nil
}

// Target is a host and a port as the user wrote them, not yet resolved.
type Target struct {
	Host string // name, IP literal (brackets removed, zone kept), or "" for any
	Port string
}

// SplitTarget reads the positional arguments of connect and listen:
// "HOST PORT", "HOST:PORT", "[v6]:PORT", "v6 PORT", or for listening
// a lone "PORT" (then the host is empty). portFlag is the -p value, if any.
func SplitTarget(args []string, portFlag string, listening bool) (Target, error) {
	hint := "e.g. sonde example.com 80, sonde example.com:80 or sonde [::1]:80"
	if listening {
		hint = "e.g. sonde -l 8080, sonde -l 127.0.0.1 8080 or sonde -l -p 8080"
	}
	var t Target
	switch len(args) {
	case 0:
		if !listening || portFlag == "" {
			return t, badInput(hint, "missing host and port")
		}
		t.Port = portFlag
	case 1:
		a := args[0]
		switch {
		case listening && portFlag == "" && isPortLike(a):
			t.Port = a
		case listening && portFlag != "" && isDigits(a):
			return t, badInput(hint, "the port is given twice: -p %q and %q", portFlag, a)
		case listening && portFlag != "":
			t.Host, t.Port = a, portFlag
		default:
			if err := urlError(a); err != nil {
				return t, err
			}
			host, port, err := splitCombined(a)
			if err != nil {
				if listening {
					return t, badInput(hint, "missing port in %q", a)
				}
				return t, badInput(hint, "missing port: give HOST PORT or HOST:PORT, not %q alone", a)
			}
			t.Host, t.Port = host, port
		}
	case 2:
		if portFlag != "" && listening {
			return t, badInput(hint, "the port is given twice: -p %q and %q", portFlag, args[1])
		}
		t.Host, t.Port = args[0], args[1]
	default:
		return t, badInput(hint, "too many arguments: %q", strings.Join(args[2:], " "))
	}
	host, err := cleanHost(t.Host)
	if err != nil {
		return t, err
	}
	t.Host = host
	return t, nil
}

// SplitHostPort parses a combined "HOST:PORT" or "[v6]:PORT" address (as
// relay takes them). An empty host means every local address.
func SplitHostPort(s string) (Target, error) {
	if err := urlError(s); err != nil {
		return Target{}, err
	}
	host, port, err := splitCombined(s)
	if err != nil {
		return Target{}, badInput("e.g. 127.0.0.1:8080, [::1]:8080 or :8080", "bad address %q: want HOST:PORT", s)
	}
	host, err = cleanHost(host)
	return Target{Host: host, Port: port}, err
}

func splitCombined(s string) (host, port string, err error) {
	host, port, err = net.SplitHostPort(s)
	if err != nil || port == "" {
		return "", "", fmt.Errorf("no port in %q", s)
	}
	if strings.HasPrefix(s, "[") {
		// Keep the brackets for cleanHost, which allows only an IP address
		// inside them, as it does for "[x]" given apart from the port.
		host = "[" + host + "]"
	}
	return host, port, nil
}

// cleanHost strips brackets from an IPv6 literal and rejects hosts that
// cannot be names or addresses, so junk never reaches the resolver.
func cleanHost(h string) (string, error) {
	return ParseHost(h)
}

// ParseHost checks a host as the user typed it (for -s, or a positional)
// and strips the brackets of an IPv6 literal. "" stays "" (any address).
func ParseHost(h string) (string, error) {
	const hint = "a host is a name (example.com), an IPv4 address (192.0.2.1) or an IPv6 address (::1, fe80::1%eth0)"
	if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		h = h[1 : len(h)-1]
		if _, err := netip.ParseAddr(h); err != nil {
			return "", badInput(hint, "bad IPv6 address %q", "["+h+"]")
		}
	}
	if h == "" {
		return "", nil
	}
	if err := urlError(h); err != nil {
		return "", err
	}
	if ip, ok, err := shortIPv4(h); ok {
		return ip, err
	}
	if ip, err := netip.ParseAddr(h); err == nil {
		// netip takes any bytes as a zone, spaces and newlines included;
		// an interface name or index never has them.
		if z := ip.Zone(); !isNameChars(z) {
			return "", badInput(hint, "bad zone %q in %q: want an interface name or number", z, h)
		}
		return h, nil
	}
	if strings.Contains(h, ":") {
		return "", badInput(hint, "bad address %q", h)
	}
	if len(h) > 253 {
		return "", badInput(hint, "bad host name: longer than 253 characters")
	}
	for _, r := range h {
		if !isNameChar(r) {
			return "", badInput(hint, "bad host name %q: %q is not allowed in a name", h, r)
		}
	}
	return h, nil
}

// urlError refuses a URL given where sonde wants a host (and port), with
// the HOST PORT it names as the hint: sonde speaks to ports, not URLs.
func urlError(s string) error {
	scheme, _, ok := strings.Cut(s, "://")
	if !ok || scheme == "" || strings.ContainsAny(scheme, "/:[]@") {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Hostname() == "" {
		return badInput("give HOST PORT, e.g. sonde example.com 80", "%q is a URL: sonde takes a host and a port, not a URL", s)
	}
	port, tls := u.Port(), ""
	switch strings.ToLower(u.Scheme) {
	case "https", "wss":
		tls = "--tls "
		port = cmp.Or(port, "443")
	case "http", "ws":
		port = cmp.Or(port, "80")
	}
	host := u.Hostname()
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port == "" {
		port = "PORT"
	}
	return badInput(fmt.Sprintf("give HOST PORT: sonde %s%s %s", tls, host, port),
		"%q is a URL: sonde takes a host and a port, not a URL", s)
}

// shortIPv4 reads the IPv4 forms of inet_aton(3) that nc and ncat accept
// (through getaddrinfo) and Go does not: 127.1 (a.b: 8 and 24 bits),
// 10.0.1 (a.b.c: 8, 8 and 16 bits), 2130706433 (32 bits). ok tells that h
// is made of one to four numbers, so no name; ip is then its dotted quad.
// inet_aton also reads a leading 0 as octal and 0x as hex (010.1 is
// 8.0.0.1), which nobody means by accident: such a part is refused, as a
// number too big for its place is.
func shortIPv4(h string) (ip string, ok bool, err error) {
	parts := strings.Split(h, ".")
	if len(parts) > 4 {
		return "", false, nil
	}
	for _, p := range parts {
		if p == "" || !isDigits(p) && !(len(p) > 2 && (p[:2] == "0x" || p[:2] == "0X") && isHex(p[2:])) {
			return "", false, nil
		}
	}
	if _, err := netip.ParseAddr(h); err == nil {
		return "", false, nil // a dotted quad: ParseHost's
	}
	const hint = "write an IPv4 address in decimal without leading zeros, e.g. 10.0.0.1 or 127.1"
	for _, p := range parts {
		switch {
		case len(p) > 2 && (p[1] == 'x' || p[1] == 'X'):
			return "", true, badInput(hint, "ambiguous IPv4 address %q: nc would read %q as hexadecimal", h, p)
		case len(p) > 1 && p[0] == '0':
			return "", true, badInput(hint, "ambiguous IPv4 address %q: nc would read %q as octal", h, p)
		}
	}
	var v [4]uint64
	for i, p := range parts {
		n, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return "", true, badInput(hint, "bad IPv4 address %q", h)
		}
		v[i] = n
	}
	// The last number fills the bytes the others leave.
	last := len(parts) - 1
	if last == 3 && v[last] > 255 {
		return "", true, badInput(hint, "bad IPv4 address %q: %d is more than 255", h, v[last])
	}
	if v[last] >= 1<<(8*(4-last)) {
		return "", true, badInput(hint, "bad IPv4 address %q: %d does not fit in its %d bytes", h, v[last], 4-last)
	}
	var addr uint32
	for i := range last {
		if v[i] > 255 {
			return "", true, badInput(hint, "bad IPv4 address %q: %d is more than 255", h, v[i])
		}
		addr |= uint32(v[i]) << (8 * (3 - i))
	}
	addr |= uint32(v[last])
	return netip.AddrFrom4([4]byte{byte(addr >> 24), byte(addr >> 16), byte(addr >> 8), byte(addr)}).String(), true, nil
}

func isHex(s string) bool {
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') {
			return false
		}
	}
	return s != ""
}

func isNameChar(r rune) bool {
	return r == '-' || r == '.' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
}

func isNameChars(s string) bool {
	for _, r := range s {
		if !isNameChar(r) {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isServiceName accepts what /etc/services names look like: letters,
// digits, '-', '_' and '.', starting with a letter.
func isServiceName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	c := s[0]
	if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// isPortLike tells whether a lone listen argument is a port rather than a
// host. SplitTarget does not know the network, so a service of either
// protocol counts ("ntp" is UDP only); ParsePort then checks it for the
// network in use.
func isPortLike(s string) bool {
	if isDigits(s) {
		return true
	}
	if !isServiceName(s) || strings.Contains(s, ".") {
		return false
	}
	for _, network := range []string{"tcp", "udp"} {
		if _, err := net.LookupPort(network, s); err == nil {
			return true
		}
	}
	return false
}
