package transport

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// parseHexDump rebuilds both byte streams of each connection from a dump,
// the way a reader of a dump must be able to: skip "#" lines (but follow the
// "# conn N" switches), read the hex columns, check the offsets.
func parseHexDump(t *testing.T, dump string) map[int64][2][]byte {
	t.Helper()
	streams := map[int64][2][]byte{}
	conn := int64(1)
	sc := bufio.NewScanner(strings.NewReader(dump))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			if f := strings.Fields(line); len(f) >= 3 && f[1] == "conn" {
				conn, _ = strconv.ParseInt(strings.TrimSuffix(f[2], ":"), 10, 64)
			} else if len(f) >= 4 && f[2] == "conn" {
				conn, _ = strconv.ParseInt(strings.TrimSuffix(f[3], ":"), 10, 64)
			}
			continue
		}
		if len(line) < 12 || (line[0] != '>' && line[0] != '<') || line[1] != ' ' {
			t.Fatalf("malformed dump line %q", line)
		}
		dir := 0
		if line[0] == '<' {
			dir = 1
		}
		off, err := strconv.ParseInt(line[2:10], 16, 64)
		if err != nil {
			t.Fatalf("bad offset in %q", line)
		}
		s := streams[conn]
		if int64(len(s[dir])) != off {
			t.Fatalf("conn %d dir %c: offset %d, but %d bytes seen so far", conn, line[0], off, len(s[dir]))
		}
		hexPart := line[12 : 12+49]
		b, err := hex.DecodeString(strings.ReplaceAll(hexPart, " ", ""))
		if err != nil {
			t.Fatalf("bad hex in %q: %v", line, err)
		}
		s[dir] = append(s[dir], b...)
		streams[conn] = s
	}
	return streams
}

func TestHexDumpRebuildsBothStreams(t *testing.T) {
	var out bytes.Buffer
	log := NewHexLog(&out, HexColors{})
	rng := rand.New(rand.NewPCG(1, 2))
	type conn struct {
		s        *HexStream
		sent, rx []byte
	}
	conns := []*conn{}
	for id := int64(1); id <= 3; id++ {
		conns = append(conns, &conn{s: log.Stream(id, true, fmt.Sprintf("accepted 127.0.0.1:%d", 40000+id))})
	}
	for range 300 {
		c := conns[rng.IntN(len(conns))]
		p := make([]byte, rng.IntN(70))
		for i := range p {
			p[i] = byte(rng.IntN(256))
		}
		if rng.IntN(2) == 0 {
			c.s.Sent(p)
			c.sent = append(c.sent, p...)
		} else {
			c.s.Received(p)
			c.rx = append(c.rx, p...)
		}
		if rng.IntN(20) == 0 {
			c.s.Note("a note with > and < and | in it")
		}
	}
	got := parseHexDump(t, out.String())
	for i, c := range conns {
		s := got[int64(i+1)]
		if !bytes.Equal(s[0], c.sent) || !bytes.Equal(s[1], c.rx) {
			t.Errorf("conn %d: rebuilt %d/%d bytes, want %d/%d", i+1, len(s[0]), len(s[1]), len(c.sent), len(c.rx))
		}
	}
}

// A chunk of one direction starting at offset 0 prints, after "> ",
// exactly what hexdump -vC prints for it (minus its final offset line).
func TestHexDumpMatchesHexdumpC(t *testing.T) {
	if _, err := exec.LookPath("hexdump"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("hexdump is missing; .ci/run installs bsdextrautils")
		}
		t.Skip("HEXDUMP MISSING: apt-get install bsdextrautils to compare with hexdump -vC")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, size := range []int{1, 7, 8, 9, 15, 16, 17, 31, 32, 100, 1000} {
		p := make([]byte, size)
		for i := range p {
			p[i] = byte(rng.IntN(256))
		}
		copy(p, "Hello, world\n\x00\x7f~ ")
		var out bytes.Buffer
		NewHexLog(&out, HexColors{}).Stream(1, false, "").Sent(p)
		cmd := exec.Command("hexdump", "-vC")
		cmd.Stdin = bytes.NewReader(p)
		want, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		wantLines := strings.Split(strings.TrimRight(string(want), "\n"), "\n")
		wantLines = wantLines[:len(wantLines)-1] // the final offset-only line
		gotLines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
		if len(gotLines) != len(wantLines) {
			t.Fatalf("size %d: %d lines, hexdump has %d", size, len(gotLines), len(wantLines))
		}
		for i := range gotLines {
			if gotLines[i] != "> "+wantLines[i] {
				t.Errorf("size %d line %d:\n got %q\nwant %q", size, i, gotLines[i], "> "+wantLines[i])
			}
		}
	}
}

// Concurrent connections never split each other's chunks.
func TestHexDumpConcurrentChunksStayWhole(t *testing.T) {
	var out bytes.Buffer
	log := NewHexLog(&out, HexColors{})
	var wg sync.WaitGroup
	want := map[int64][]byte{}
	for id := int64(1); id <= 8; id++ {
		p := bytes.Repeat([]byte{byte('a' + id)}, 1000)
		want[id] = bytes.Repeat(p, 20)
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := log.Stream(id, true, "")
			for range 20 {
				s.Received(p)
			}
		}()
	}
	wg.Wait()
	got := parseHexDump(t, out.String())
	for id, w := range want {
		if !bytes.Equal(got[id][1], w) {
			t.Errorf("conn %d: rebuilt %d bytes, want %d", id, len(got[id][1]), len(w))
		}
	}
}

func TestHexColorsWrapLines(t *testing.T) {
	var out bytes.Buffer
	log := NewHexLog(&out, HexColors{
		Sent:     func(s string) string { return "[S]" + s },
		Received: func(s string) string { return "[R]" + s },
	})
	s := log.Stream(1, false, "")
	s.Sent([]byte("x"))
	s.Received([]byte("y"))
	if !strings.Contains(out.String(), "[S]> 00000000") || !strings.Contains(out.String(), "[R]< 00000000") {
		t.Errorf("directions not coloured apart:\n%s", out.String())
	}
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

// TestHexNotesEscapePeerNames: a note names a peer, and a peer picks its
// name (an abstract Unix name can hold any byte): the note is one line
// of text that cannot drive a terminal, whatever the name holds.
func TestHexNotesEscapePeerNames(t *testing.T) {
	var out bytes.Buffer
	log := NewHexLog(&out, HexColors{})
	name := "@x\x1b]0;owned\x07\x1b[2J\u202egnp.exe\nfake\x9b\u0085"
	s := log.Stream(1, true, "accepted "+name)
	s.Note("datagram of %d bytes from %s", 3, name)
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("two notes wrote %d lines: %q", len(lines), out.String())
	}
	want := `@x\x1b]0;owned\a\x1b[2J\u202egnp.exe\nfake\x9b\u0085`
	for i, suffix := range []string{"accepted " + want, "datagram of 3 bytes from " + want} {
		if !strings.HasPrefix(lines[i], "# ") || !strings.HasSuffix(lines[i], " conn 1: "+suffix) {
			t.Errorf("note %d is %q, want it to end with %q", i+1, lines[i], suffix)
		}
	}
}

// StampChunks (relay --hex -vv): each chunk has a header with the time,
// the connection, the direction and the length, and the dump still
// rebuilds both streams.
func TestHexStampChunks(t *testing.T) {
	var b strings.Builder
	l := NewHexLog(&b, HexColors{})
	tick := time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)
	l.now = func() time.Time { tick = tick.Add(time.Millisecond); return tick }
	l.StampChunks()
	one, two := l.Stream(1, true, ""), l.Stream(2, true, "")
	one.Sent([]byte("GET / HTTP/1.0\r\n\r\n"))
	two.Received([]byte("x"))
	one.Received([]byte("HTTP/1.0 200 OK\r\n"))
	want := "# 03:04:05.124456 conn 1: > 18 bytes\n" +
		"> 00000000  47 45 54 20 2f 20 48 54  54 50 2f 31 2e 30 0d 0a  |GET / HTTP/1.0..|\n" +
		"> 00000010  0d 0a                                             |..|\n" +
		"# 03:04:05.125456 conn 2: < 1 byte\n" +
		"< 00000000  78                                                |x|\n" +
		"# 03:04:05.126456 conn 1: < 17 bytes\n" +
		"< 00000000  48 54 54 50 2f 31 2e 30  20 32 30 30 20 4f 4b 0d  |HTTP/1.0 200 OK.|\n" +
		"< 00000010  0a                                                |.|\n"
	if b.String() != want {
		t.Errorf("dump:\n%s\nwant:\n%s", b.String(), want)
	}
	streams := parseHexDump(t, b.String())
	if got := string(streams[1][0]); got != "GET / HTTP/1.0\r\n\r\n" {
		t.Errorf("conn 1 > rebuilds %q", got)
	}
	if got := string(streams[2][1]); got != "x" {
		t.Errorf("conn 2 < rebuilds %q", got)
	}
}
