package transport

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"maps"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
)

// More fuzz targets, one per parser of what the user types (or of what a
// peer sends back) that fuzz_test.go and proxy_test.go do not cover. Seeds
// are in testdata/fuzz/FuzzXxx as well as in the f.Add calls.

// FuzzParseHost: -s and positional hosts. An accepted host is the input,
// brackets removed; it is clean (checkHost), a fixed point, and fits in
// HOST:PORT.
func FuzzParseHost(f *testing.F) {
	for _, s := range []string{"", "example.com", "[::1]", "[1.2.3.4]", "fe80::1%eth0", "[fe80::1%25]", "a_b-c.d", "exa mple", "[x]", "::ffff:1.2.3.4", "1.2.3.4%eth0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseHost(s)
		if err != nil {
			checkFuzzError(t, err)
			return
		}
		want := s
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

// FuzzParsePin: --pin sha256:HEX. An accepted pin is a SHA-256 (32 bytes),
// it is exactly the hex digits given, and the forms sonde prints (SPKIPin's
// lower-case hex, Fingerprint's upper-case with colons) read back to it.
func FuzzParsePin(f *testing.F) {
	sum := sha256.Sum256([]byte("sonde"))
	f.Add("sha256:" + hex.EncodeToString(sum[:]))
	f.Add(" sha256:" + strings.ToUpper(hex.EncodeToString(sum[:])) + "\n")
	f.Add("sha256:" + hex.EncodeToString(sum[:31]))
	f.Add("SHA256:" + hex.EncodeToString(sum[:]))
	f.Add("sha256:zz")
	f.Fuzz(func(t *testing.T, s string) {
		pin, err := ParsePin(s)
		if err != nil {
			checkFuzzError(t, err)
			return
		}
		if len(pin) != sha256.Size {
			t.Fatalf("ParsePin(%q): %d bytes, want %d", s, len(pin), sha256.Size)
		}
		digits := strings.ReplaceAll(strings.TrimPrefix(strings.TrimSpace(s), "sha256:"), ":", "")
		if !strings.EqualFold(digits, hex.EncodeToString(pin)) {
			t.Fatalf("ParsePin(%q) = %x: not the digits given", s, pin)
		}
		colons := make([]string, len(pin))
		for i, b := range pin {
			colons[i] = fmt.Sprintf("%02X", b)
		}
		for _, form := range []string{"sha256:" + hex.EncodeToString(pin), "sha256:" + strings.Join(colons, ":")} {
			if again, err := ParsePin(form); err != nil || !bytes.Equal(again, pin) {
				t.Fatalf("ParsePin(%q) = %x, but %q gives %x, %v", s, pin, form, again, err)
			}
		}
	})
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

// FuzzALPN: the --alpn list, as TLSOptions.ALPN (the value split at
// commas; the CLI also drops empty items and spaces). A list that
// ClientTLSConfig accepts is one crypto/tls can send: the client's hello
// goes out (over an in-memory pipe) instead of failing on the config, as
// it did once connected. ServerTLSConfig accepts exactly the same lists.
func FuzzALPN(f *testing.F) {
	f.Add("h2,http/1.1")
	f.Add("sonde/1")
	f.Add("h2,,http/1.1")
	f.Add(strings.Repeat("a", 256))
	f.Add(strings.Repeat("a", 255))
	f.Add(strings.Repeat(strings.Repeat("b", 255)+",", 127) + "c")
	f.Add(strings.Repeat(strings.Repeat("b", 255)+",", 128) + "c")
	// A certificate made once: a fresh one per input would cost more than
	// all the rest.
	cert, err := selfSigned(nil)
	if err != nil {
		f.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(cert.PrivateKey.(*ecdsa.PrivateKey))
	if err != nil {
		f.Fatal(err)
	}
	dir := f.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for name, block := range map[string]*pem.Block{certFile: {Type: "CERTIFICATE", Bytes: cert.Certificate[0]}, keyFile: {Type: "EC PRIVATE KEY", Bytes: keyDER}} {
		if err := os.WriteFile(name, pem.EncodeToMemory(block), 0o600); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		protos := strings.Split(s, ",")
		cfg, err := ClientTLSConfig(TLSOptions{ALPN: protos, Insecure: true}, "localhost")
		_, _, _, serr := ServerTLSConfig(TLSOptions{ALPN: protos, CertFile: certFile, KeyFile: keyFile}, nil)
		if (err == nil) != (serr == nil) {
			t.Fatalf("ALPN %q: client config error %v, server config error %v", s, err, serr)
		}
		if err != nil {
			checkFuzzError(t, err)
			checkFuzzError(t, serr)
			return
		}
		if !slices.Equal(cfg.NextProtos, protos) {
			t.Fatalf("ALPN %q: NextProtos %q", s, cfg.NextProtos)
		}
		client, server := net.Pipe()
		done := make(chan error, 1)
		go func() {
			err := tls.Client(client, cfg).Handshake()
			client.Close()
			done <- err
		}()
		server.SetReadDeadline(time.Now().Add(10 * time.Second))
		var hdr [5]byte
		_, rerr := io.ReadFull(server, hdr[:])
		server.Close()
		herr := <-done
		if rerr != nil || hdr[0] != 22 { // a handshake record
			t.Fatalf("ALPN %q accepted, but crypto/tls sent no ClientHello: %v", s, herr)
		}
	})
}

// FuzzParseServices: the services(5) reader behind scan's service names.
// Every entry is a port 1-65535, a lower-case protocol and a name of one
// word; the first line for a port and protocol wins, so reading the file
// twice over, with comments added or with CRLF line ends changes nothing.
func FuzzParseServices(f *testing.F) {
	f.Add("http 80/tcp www # WorldWideWeb HTTP\nhttp 80/udp\n")
	f.Add("# comment only\n\nssh\t22/tcp\nsecure-shell 22/tcp\n")
	f.Add("bad 0/tcp\nbig 65536/tcp\nneg -1/tcp\nplus +25/tcp\nnoproto 25\nUPPER 7/TCP\n")
	f.Add("x 1/\r\ny 2/tcp#c\r\n")
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > 16<<10 {
			t.Skip("bufio.Scanner stops at a 64 KiB line; services files have short lines")
		}
		m := parseServices(strings.NewReader(text))
		for k, name := range m {
			if k.port < 1 || k.port > 65535 || k.network != strings.ToLower(k.network) {
				t.Fatalf("entry %+v = %q", k, name)
			}
			if name == "" || strings.ContainsFunc(name, unicode.IsSpace) || strings.Contains(name, "#") {
				t.Fatalf("entry %+v: name %q", k, name)
			}
		}
		same := func(how, text2 string) {
			if m2 := parseServices(strings.NewReader(text2)); !maps.Equal(m, m2) {
				t.Fatalf("%s changes %v into %v", how, m, m2)
			}
		}
		same("reading the file twice", text+"\n"+text)
		same("CRLF line ends", strings.ReplaceAll(text, "\n", "\r\n"))
		same("comments", strings.ReplaceAll(text, "\n", " # 1/tcp x\n"))
	})
}

// hexLine is one dump line read back: direction, offset and bytes, as
// hexdump -C's layout gives them.
type hexLine struct {
	dir  byte
	off  int64
	data []byte
}

func parseHexLine(t *testing.T, line string) hexLine {
	t.Helper()
	bad := func(why string) hexLine {
		t.Fatalf("dump line %q: %s", line, why)
		return hexLine{}
	}
	if len(line) < 2 || line[0] != '>' && line[0] != '<' || line[1] != ' ' {
		return bad("no direction mark")
	}
	rest := line[2:]
	offText, rest, ok := strings.Cut(rest, "  ")
	if !ok || len(offText) < 8 {
		return bad("no 8-digit offset")
	}
	off, err := strconv.ParseInt(offText, 16, 64)
	if err != nil || fmt.Sprintf("%08x", off) != offText {
		return bad("bad offset")
	}
	if len(rest) < 49+2 || rest[49:51] != " |" || !strings.HasSuffix(rest, "|") {
		return bad("bad layout")
	}
	hexPart, ascii := rest[:49], rest[51:len(rest)-1]
	var data []byte
	for i := range 16 {
		pos := i * 3
		if i >= 8 {
			pos++
		}
		field := hexPart[pos : pos+2]
		if field == "  " {
			if strings.TrimSpace(hexPart[pos:]) != "" {
				return bad("a gap before the last byte")
			}
			break
		}
		b, err := hex.DecodeString(field)
		if err != nil || field != strings.ToLower(field) || hexPart[pos+2] != ' ' {
			return bad("bad hex byte")
		}
		data = append(data, b...)
	}
	if hexPart[24] != ' ' {
		return bad("no gap after 8 bytes")
	}
	if len(ascii) != len(data) {
		return bad("ascii column does not match the bytes")
	}
	for i, c := range data {
		if c < 0x20 || c > 0x7e {
			c = '.'
		}
		if ascii[i] != c {
			return bad("ascii column does not match the bytes")
		}
	}
	return hexLine{line[0], off, data}
}

// FuzzHexDump: --hex. Chunks sent and received through one HexStream dump
// as lines that read back (in hexdump -C's layout) to exactly those bytes,
// at the running offset of each direction, at most 16 bytes a line.
func FuzzHexDump(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.0\r\n\r\n"), []byte{5, 0x80 | 3, 40})
	f.Add([]byte{0, 1, 2, 0x7f, 0x80, 0xff, ' ', '~'}, []byte{})
	f.Add(bytes.Repeat([]byte("0123456789abcdef"), 5), []byte{16, 0x80 | 17, 15, 1})
	f.Fuzz(func(t *testing.T, data, cuts []byte) {
		var out bytes.Buffer
		s := NewHexLog(&out, HexColors{}).Stream(1, false, "")
		var want [2][]byte // sent, received
		for len(data) > 0 {
			n, received := len(data), false
			if len(cuts) > 0 {
				n, received = int(cuts[0]&0x7f), cuts[0]&0x80 != 0
				n = min(n, len(data))
				cuts = cuts[1:]
			}
			if received {
				s.Received(data[:n])
				want[1] = append(want[1], data[:n]...)
			} else {
				s.Sent(data[:n])
				want[0] = append(want[0], data[:n]...)
			}
			data = data[n:]
		}
		var got [2][]byte
		text := out.String()
		if text != "" && !strings.HasSuffix(text, "\n") {
			t.Fatalf("dump %q does not end in a newline", text)
		}
		var lines []string
		if text != "" {
			lines = strings.Split(strings.TrimSuffix(text, "\n"), "\n")
		}
		for _, line := range lines {
			l := parseHexLine(t, line)
			i := 0
			if l.dir == '<' {
				i = 1
			}
			if l.off != int64(len(got[i])) || len(l.data) == 0 {
				t.Fatalf("line %q: offset %d, want %d", line, l.off, len(got[i]))
			}
			got[i] = append(got[i], l.data...)
		}
		if !bytes.Equal(got[0], want[0]) || !bytes.Equal(got[1], want[1]) {
			t.Fatalf("dump reads back as sent %q received %q, want %q and %q", got[0], got[1], want[0], want[1])
		}
	})
}

// FuzzProxyReply: what an HTTP CONNECT, SOCKS5 or SOCKS4 proxy answers
// (read over an in-memory pipe; the proxy's end reads the request and sends
// reply). Whatever the bytes, the handshake ends, and a failure it words is
// one clean line: the proxy's own words are shown without control
// characters, so a hostile proxy cannot rewrite the terminal.
func FuzzProxyReply(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 Connection established\r\n\r\n"), byte(2), false)
	f.Add([]byte("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Negotiate\r\n\r\n"), byte(2), true)
	f.Add([]byte("HTTP/1.0 403\r\n\r\n"), byte(2), false)
	f.Add([]byte("HTTP/1.1 502 Bad\x1b[2J Gateway\r\n\r\n"), byte(2), false)
	f.Add([]byte("SSH-2.0-OpenSSH_9.6\r\n"), byte(2), false)
	f.Add([]byte{5, 0, 5, 5, 0, 1, 0, 0, 0, 0, 0, 0}, byte(0), false)
	f.Add([]byte{5, 2, 1, 1}, byte(0), true)
	f.Add([]byte{5, 0xff}, byte(0), false)
	f.Add([]byte{0, 90, 0, 0, 0, 0, 0, 0}, byte(1), false)
	f.Add([]byte{0, 92, 0, 0, 0, 0, 0, 0}, byte(1), false)
	f.Fuzz(func(t *testing.T, reply []byte, typ byte, auth bool) {
		p := &Proxy{Type: []string{ProxySOCKS5, ProxySOCKS4, ProxyConnect}[int(typ)%3], Host: "127.0.0.1", Port: 1080}
		if auth {
			p.Auth, p.User = true, "alice"
			if p.Type != ProxySOCKS4 {
				p.Password = "secret"
			}
		}
		conn, proxyEnd := net.Pipe()
		proxyDone := make(chan struct{})
		go func() {
			// Take whatever the client sends, answer, then close.
			defer close(proxyDone)
			drained := make(chan struct{})
			go func() { io.Copy(io.Discard, proxyEnd); close(drained) }()
			proxyEnd.Write(reply)
			proxyEnd.Close()
			<-drained
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var fail *proxyFailure
		switch p.Type {
		case ProxySOCKS5:
			fail = socks5Handshake(ctx, conn, p, "192.0.2.1:80")
		case ProxySOCKS4:
			fail = withDeadline(ctx, conn, func() *proxyFailure { return socks4Handshake(conn, p, "192.0.2.1", 80) })
		default:
			fail = withDeadline(ctx, conn, func() *proxyFailure { return connectHandshake(conn, p, "192.0.2.1:80") })
		}
		conn.Close()
		<-proxyDone // no goroutine left behind
		if ctx.Err() != nil {
			t.Fatalf("%s handshake on %q did not end", p.Type, reply)
		}
		if fail == nil {
			return
		}
		for _, s := range []string{fail.why, fail.hint} {
			if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 }) {
				t.Fatalf("%s reply %q: message %q holds control characters", p.Type, reply, s)
			}
		}
	})
}
