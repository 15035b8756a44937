package transport

// What the user types to name many targets at once: the HOSTS of a scan
// (names, addresses and CIDR blocks, comma-separated), the lines of a
// --targets file, and the rules of a check policy.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"net/netip"
	"strconv"
	"strings"
)

// HostSpec is one item of a HOSTS list: a name or an address, or a CIDR
// block that stands for every address in it.
type HostSpec struct {
	Host  string       // a name or an address (brackets removed); "" for a block
	Block netip.Prefix // the block, masked; the zero Prefix for a host
}

// String is the spec as a report names it: the host, or the block.
func (h HostSpec) String() string {
	if h.Block.IsValid() {
		return h.Block.String()
	}
	return h.Host
}

// Count is how many addresses the spec stands for before any name is
// resolved: one for a name or an address, every address of a block
// (math.MaxUint64 for a block larger than that), computed without
// listing them.
func (h HostSpec) Count() uint64 {
	if !h.Block.IsValid() {
		return 1
	}
	bits := h.Block.Addr().BitLen() - h.Block.Bits()
	if bits >= 64 {
		return math.MaxUint64
	}
	return 1 << bits
}

// Addrs yields every address of a block in order, the network and
// broadcast addresses included, as nmap scans them. For a host it yields
// nothing: a name is resolved, not listed.
func (h HostSpec) Addrs() iter.Seq[netip.Addr] {
	return func(yield func(netip.Addr) bool) {
		if !h.Block.IsValid() {
			return
		}
		for a := h.Block.Addr(); a.IsValid() && h.Block.Contains(a); a = a.Next() {
			if !yield(a) {
				return
			}
		}
	}
}

// CountAddrs adds up Count over specs, saturating instead of wrapping.
func CountAddrs(specs []HostSpec) uint64 {
	var n uint64
	for _, s := range specs {
		c := s.Count()
		if n > math.MaxUint64-c {
			return math.MaxUint64
		}
		n += c
	}
	return n
}

const hostsHint = "give names, addresses and CIDR blocks separated by commas, e.g. db,10.0.0.0/28,[::1]"

// ParseHosts reads a HOSTS list: names, addresses ([v6] or v6) and CIDR
// blocks (10.0.0.0/24, 2001:db8::/120), separated by commas.
func ParseHosts(s string) ([]HostSpec, error) {
	if strings.TrimSpace(s) == "" {
		return nil, badInput(hostsHint, "missing host")
	}
	var specs []HostSpec
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return nil, badInput(hostsHint, "empty host in %q", s)
		}
		spec, err := parseHostSpec(item)
		if err != nil {
			return nil, err
		}
		specs = append(specs, spec)
	}
	return specs, nil
}

func parseHostSpec(item string) (HostSpec, error) {
	if err := urlError(item); err != nil { // its "/" is no prefix length
		return HostSpec{}, err
	}
	addr, bits, isBlock := strings.Cut(item, "/")
	if !isBlock {
		h, err := ParseHost(item)
		return HostSpec{Host: h}, err
	}
	const hint = "a CIDR block is an address and a prefix length, e.g. 10.0.0.0/24 or 2001:db8::/120"
	addr = strings.TrimSuffix(strings.TrimPrefix(addr, "["), "]")
	p, err := netip.ParsePrefix(addr + "/" + bits)
	if err != nil {
		return HostSpec{}, badInput(hint, "bad CIDR block %q", item)
	}
	if p.Addr().Is4In6() {
		return HostSpec{}, badInput(hint, "bad CIDR block %q: give IPv4 blocks in IPv4 form", item)
	}
	return HostSpec{Block: p.Masked()}, nil
}

// TargetLine is one line of a --targets file: hosts and, if the line
// gives them, their ports.
type TargetLine struct {
	Hosts []HostSpec
	Ports []int  // nil: the PORTS argument applies
	Where string // FILE:LINE, for messages
}

// ParseTargets reads a --targets file from r (name is what messages call
// it: the path, or "stdin"): one target a line, HOST, HOST PORTS or
// HOST:PORT, where HOST may also be a list or a CIDR block as ParseHosts
// takes them. An IPv6 address with a port needs brackets ([::1]:80); a
// bare one is a host. '#' starts a comment; blank lines are skipped. A
// bad line is an *InputError that names FILE:LINE.
func ParseTargets(r io.Reader, name, network string) ([]TargetLine, error) {
	const hint = "a line of a targets file is HOST, HOST PORTS or HOST:PORT, e.g. db.example 5432 or 10.0.0.0/28"
	var out []TargetLine
	err := eachLine(r, name, "targets", hint, func(line int, fields []string) error {
		t := TargetLine{Where: name + ":" + strconv.Itoa(line)}
		var err error
		switch len(fields) {
		case 1:
			t.Hosts, t.Ports, err = hostOrHostPort(fields[0], network)
		case 2:
			if t.Hosts, err = ParseHosts(fields[0]); err == nil {
				t.Ports, err = ParsePorts(fields[1], network)
			}
		default:
			err = badInput(hint, "too many fields (%d): want HOST, HOST PORTS or HOST:PORT", len(fields))
		}
		out = append(out, t)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// hostOrHostPort reads the one field of a targets line: hosts, or
// HOST:PORTS when it is not hosts and has a colon.
func hostOrHostPort(field, network string) ([]HostSpec, []int, error) {
	hosts, err := ParseHosts(field)
	if err == nil || !strings.Contains(field, ":") {
		return hosts, nil, err
	}
	host, ports, splitErr := splitCombined(field)
	if splitErr != nil {
		return nil, nil, err
	}
	if hosts, err = ParseHosts(host); err != nil {
		return nil, nil, err
	}
	p, err := ParsePorts(ports, network)
	return hosts, p, err
}

// Expect is what a rule of a check policy says a port must be.
type Expect string

const (
	ExpectOpen         Expect = "open"
	ExpectClosed       Expect = "closed"
	ExpectFiltered     Expect = "filtered"
	ExpectBlocked      Expect = "blocked" // anything but open: what a rule that forbids the port produces
	ExpectOpenFiltered Expect = "open|filtered"
)

// Rule is one line of a check policy: these ports of these hosts, over
// this protocol, must be in this state.
type Rule struct {
	Hosts   []HostSpec
	Ports   []int
	Network string // "tcp" or "udp"
	Expect  Expect
	Where   string // FILE:LINE
	Line    int
}

// ParsePolicy reads a check policy from r (name as for ParseTargets): one
// rule a line, HOST PORTS [tcp|udp] EXPECT, where HOST may be a list or a
// CIDR block as ParseHosts takes them, the protocol defaults to tcp, and
// EXPECT is open, closed, filtered, blocked or (UDP only) open|filtered.
// '#' starts a comment; blank lines are skipped. A bad line is an
// *InputError that names FILE:LINE.
func ParsePolicy(r io.Reader, name string) ([]Rule, error) {
	const hint = "a rule is HOST PORTS [tcp|udp] EXPECT, e.g. db.example 5432 tcp open or 10.0.0.0/28 22 blocked"
	var rules []Rule
	err := eachLine(r, name, "rules", hint, func(line int, fields []string) error {
		if len(fields) < 3 || len(fields) > 4 {
			return badInput(hint, "want HOST PORTS [tcp|udp] EXPECT, got %d %s", len(fields), pluralWord(len(fields), "field"))
		}
		rule := Rule{Network: "tcp", Where: name + ":" + strconv.Itoa(line), Line: line,
			Expect: Expect(strings.ToLower(fields[len(fields)-1]))}
		if len(fields) == 4 {
			switch rule.Network = strings.ToLower(fields[2]); rule.Network {
			case "tcp", "udp":
			default:
				return badInput(hint, "bad protocol %q: want tcp or udp", fields[2])
			}
		}
		switch rule.Expect {
		case ExpectOpen, ExpectClosed, ExpectFiltered, ExpectBlocked:
		case ExpectOpenFiltered:
			if rule.Network != "udp" {
				return badInput("add udp before it, or expect filtered or blocked for TCP",
					"open|filtered is a UDP state: a TCP port answers or is filtered")
			}
		default:
			return badInput(hint, "bad expectation %q: want open, closed, filtered, blocked or open|filtered", fields[len(fields)-1])
		}
		var err error
		if rule.Hosts, err = ParseHosts(fields[0]); err != nil {
			return err
		}
		if rule.Ports, err = ParsePorts(fields[1], rule.Network); err != nil {
			return err
		}
		rules = append(rules, rule)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rules, nil
}

// maxLine bounds a line of a targets file or policy.
const maxLine = 64 << 10

// eachLine calls do with the number and the fields of each line of r
// that is not blank or a comment. An error do returns, if an
// *InputError, comes back with FILE:LINE before its message. A file
// with no such line is an error too: "FILE: no WHAT in it".
func eachLine(r io.Reader, name, what, hint string, do func(line int, fields []string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	n, done := 0, 0
	for sc.Scan() {
		n++
		text, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(text)
		if len(fields) == 0 {
			continue
		}
		done++
		if err := do(n, fields); err != nil {
			var in *InputError
			if errors.As(err, &in) {
				return &InputError{Msg: name + ":" + strconv.Itoa(n) + ": " + in.Msg, Hint: in.Hint}
			}
			return err
		}
	}
	if errors.Is(sc.Err(), bufio.ErrTooLong) {
		return badInput("a line holds one target or rule: split the line", "%s:%d: line longer than %d KiB", name, n+1, maxLine>>10)
	}
	if err := sc.Err(); err != nil {
		return badInput("give the path of a readable file, or - for stdin", "cannot read %s: %v", name, err)
	}
	if done == 0 {
		return badInput(hint, "%s: no %s in it", name, what)
	}
	return nil
}

func pluralWord(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// CheckHostCap refuses more than max addresses, counted as Count does
// (a name is one), before any block is listed.
func CheckHostCap(specs []HostSpec, max int) error {
	if n := CountAddrs(specs); n > uint64(max) {
		count := strconv.FormatUint(n, 10)
		if n == math.MaxUint64 {
			count = "more than " + count
		}
		return &InputError{Msg: fmt.Sprintf("%s addresses to probe, more than %d", count, max),
			Hint: "narrow the blocks, or raise the cap with --max-hosts N"}
	}
	return nil
}

// LineError is a failure that belongs to one line of a targets file or
// policy (a name on it that does not resolve): Explain words Err and puts
// FILE:LINE before it.
type LineError struct {
	Where string
	Err   error
}

func (e *LineError) Error() string { return e.Where + ": " + e.Err.Error() }
func (e *LineError) Unwrap() error { return e.Err }
