//go:build linux

package reliability

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"math/rand/v2"
	"net"
	"os"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sondeproject/sonde/internal/netnstest"
	"github.com/sondeproject/sonde/internal/proctest"
)

// The flood: floodDatagrams datagrams from floodSenders sockets (so from
// as many source ports), as fast as the senders can go.
const (
	floodDatagrams = 10000
	floodSenders   = 16
	maxDatagram    = 65507 // the largest UDP payload over IPv4
)

// A flood datagram is a record that can be checked on sonde's stdout,
// where datagrams arrive back to back: magic, total length, sequence
// number, CRC-32 of the payload, payload. Empty datagrams are sent too
// (they must not end or upset anything) but cannot be seen on stdout.
var floodMagic = []byte("SDGM")

const floodHeader = 4 + 4 + 8 + 4

func floodDatagram(rng *rand.Rand, seq uint64) []byte {
	var size int
	switch r := rng.IntN(100); {
	case r < 3:
		return nil // empty
	case r < 8:
		size = floodHeader + rng.IntN(maxDatagram-floodHeader+1) // up to the largest
	default:
		size = floodHeader + rng.IntN(1400)
	}
	d := make([]byte, size)
	copy(d, floodMagic)
	binary.BigEndian.PutUint32(d[4:], uint32(size))
	binary.BigEndian.PutUint64(d[8:], seq)
	for i := floodHeader; i < size; i++ {
		d[i] = byte(rng.Uint32())
	}
	binary.BigEndian.PutUint32(d[16:], crc32.ChecksumIEEE(d[floodHeader:]))
	return d
}

// flood sends the datagrams to addr and returns how many the kernel took
// (every one of those reached sonde's socket or was dropped there, and
// counted) and how many of those were not empty.
func flood(t *testing.T, addr string) (sent, nonEmpty int) {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	for s := range floodSenders {
		c, err := net.Dial("udp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(s), 42))
			ok, full := 0, 0
			for i := s; i < floodDatagrams; i += floodSenders {
				d := floodDatagram(rng, uint64(i))
				if _, err := c.Write(d); err != nil {
					continue // refused (ICMP) or no buffer: never reached sonde
				}
				ok++
				if len(d) > 0 {
					full++
				}
			}
			mu.Lock()
			sent += ok
			nonEmpty += full
			mu.Unlock()
		})
	}
	wg.Wait()
	return sent, nonEmpty
}

// dropsRE is sonde's warning about datagrams the kernel dropped.
var dropsRE = regexp.MustCompile(`(?m)^sonde: warning: the kernel dropped (\d+) datagrams?: `)

// kernelDrops returns the count in sonde's drop warning, 0 without one.
func kernelDrops(stderr string) int {
	m := dropsRE.FindStringSubmatch(stderr)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// countOf returns the number before noun in the first match of re.
func countOf(t *testing.T, re *regexp.Regexp, s string) int {
	t.Helper()
	m := re.FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("stderr does not match %q:\n%s", re, s)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// parseFlood checks sonde's stdout: whole records, back to back, each
// intact and each once. It returns how many there were.
func parseFlood(t *testing.T, out []byte) int {
	t.Helper()
	seen := map[uint64]bool{}
	for off := 0; off < len(out); {
		rest := out[off:]
		if len(rest) < floodHeader || !bytes.Equal(rest[:4], floodMagic) {
			t.Fatalf("stdout at offset %d is not the start of a datagram (%d bytes left)", off, len(rest))
		}
		size := int(binary.BigEndian.Uint32(rest[4:]))
		if size < floodHeader || size > len(rest) {
			t.Fatalf("datagram at offset %d says %d bytes, %d left: cut short", off, size, len(rest))
		}
		seq := binary.BigEndian.Uint64(rest[8:])
		if crc32.ChecksumIEEE(rest[floodHeader:size]) != binary.BigEndian.Uint32(rest[16:]) {
			t.Fatalf("datagram %d (%d bytes) corrupted", seq, size)
		}
		if seen[seq] {
			t.Fatalf("datagram %d written twice", seq)
		}
		seen[seq] = true
		off += size
	}
	return len(seen)
}

// probeEcho sends a probe to an echo server (or a relay to one) until it
// comes back, a few times (UDP may drop any one of them), and returns how
// many probes it sent.
func probeEcho(t *testing.T, addr string) int {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	probe := []byte("still there?")
	buf := make([]byte, 64)
	for i := range 20 {
		c.Write(probe)
		c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		n, err := c.Read(buf)
		if err == nil && bytes.Equal(buf[:n], probe) {
			return i + 1
		}
	}
	t.Fatalf("no echo of a probe from %s after the flood", addr)
	return 0
}

// TestUDPFlood floods a UDP listener, sonde's UDP echo server and a UDP
// relay with random datagrams of every size from 0 to 65,507 bytes. Each
// must keep running and serving: the listener writes whole, intact
// datagrams, each once, and accounts for every datagram that reached its
// socket (received, or dropped by the kernel and reported on stderr);
// the echo server accounts for them the same way; echo and relay still
// answer after the flood.
func TestUDPFlood(t *testing.T) {
	t.Parallel()
	if !netnstest.Private(t) {
		return
	}
	// No ICMP of this namespace counts against the kernel's global ICMP
	// budget, which some kernels share between namespaces: the storm's
	// port unreachables must not starve other tests' ICMP.
	netnstest.Run(t, "sysctl", "-q", "-w", "net.ipv4.icmp_ratemask=0", "net.ipv6.icmp.ratemask=")
	t.Run("listen", func(t *testing.T) {
		out := proctest.NewOutFile(t)
		s := proctest.Start(t, proctest.Stdio{Stdout: out}, sondeBin, "-v", "-u", "-l", "-k", "127.0.0.1", "0") // -k: hear all 16 senders
		_, port := s.ListenAddr(t)
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		sent, nonEmpty := flood(t, addr)
		// A last datagram, sent until it shows up: sonde still reads.
		last := floodDatagram(rand.New(rand.NewPCG(7, 7)), floodDatagrams)
		for len(last) == 0 {
			last = floodDatagram(rand.New(rand.NewPCG(8, 8)), floodDatagrams)
		}
		c, err := net.Dial("udp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		proctest.PollUntil(t, "the last datagram on stdout", s, func() bool {
			if _, err := c.Write(last); err == nil {
				sent++
			}
			time.Sleep(20 * time.Millisecond)
			return bytes.Contains(out.Contents(t), last[:floodHeader])
		})
		s.Cmd.Process.Signal(os.Interrupt)
		s.ExpectExit(t, 130)
		whole := parseFlood(t, out.Contents(t))
		stderr := s.Stderr.String()
		received := countOf(t, regexp.MustCompile(`(?m)^sonde: sent 0 bytes, received .* in (\d+) datagrams?$`), stderr)
		dropped := kernelDrops(stderr)
		if received+dropped != sent {
			t.Errorf("%d datagrams reached sonde's socket, but sonde says it received %d and the kernel dropped %d", sent, received, dropped)
		}
		t.Logf("FIGURES udp flood listen: %d datagrams reached the socket (%d not empty), sonde received %d (%d written whole on stdout, the others empty or repeats of the last), the kernel dropped %d and sonde said so",
			sent, nonEmpty, received, whole, dropped)
	})
	t.Run("echo", func(t *testing.T) {
		s := proctest.Start(t, proctest.Stdio{}, sondeBin, "echo", "-u", "127.0.0.1", "0")
		_, port := s.ListenAddr(t)
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		sent, _ := flood(t, addr)
		sent += probeEcho(t, addr)
		s.Cmd.Process.Signal(os.Interrupt)
		s.ExpectExit(t, 130)
		stderr := s.Stderr.String()
		echoed := countOf(t, regexp.MustCompile(`(?m)^sonde: echoed .* in (\d+) datagrams? from `), stderr)
		dropped := kernelDrops(stderr)
		if echoed+dropped != sent {
			t.Errorf("%d datagrams reached the echo server's socket, but it says it echoed %d and the kernel dropped %d", sent, echoed, dropped)
		}
		t.Logf("FIGURES udp flood echo: %d datagrams reached the socket, %d echoed, %d dropped by the kernel and reported", sent, echoed, dropped)
	})
	t.Run("relay", func(t *testing.T) {
		echo := proctest.Start(t, proctest.Stdio{}, sondeBin, "echo", "-u", "127.0.0.1", "0")
		_, echoPort := echo.ListenAddr(t)
		r := proctest.Start(t, proctest.Stdio{}, sondeBin, "relay", "-u", "127.0.0.1:0", net.JoinHostPort("127.0.0.1", strconv.Itoa(echoPort)))
		_, port := r.ListenAddr(t)
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		sent, _ := flood(t, addr)
		sent += probeEcho(t, addr)
		r.Cmd.Process.Signal(os.Interrupt)
		r.ExpectExit(t, 130)
		dropped := kernelDrops(r.Stderr.String())
		if dropped > sent {
			t.Errorf("relay says the kernel dropped %d datagrams, but only %d reached it", dropped, sent)
		}
		t.Logf("FIGURES udp flood relay: %d datagrams reached the relay, %d dropped by the kernel and reported", sent, dropped)
	})
}
