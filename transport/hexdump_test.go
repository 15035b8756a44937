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
