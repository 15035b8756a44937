package modes

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sondeproject/sonde/internal/porttest"
	"github.com/sondeproject/sonde/internal/proctest"
	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

// testRelay is a relay running in the test, and what it wrote.
type testRelay struct {
	addr   string
	stderr *proctest.Buffer
	stop   func() // interrupt it and check that it ended with the interruption
}

// startRelay runs Relay from 127.0.0.1:0 to target at -v and returns once
// it listens. It is stopped at cleanup if the test did not stop it.
func startRelay(t *testing.T, network, target string, tweak func(*RelayOptions)) *testRelay {
	t.Helper()
	tr := &testRelay{stderr: &proctest.Buffer{}}
	host, port, err := net.SplitHostPort(target)
	if err != nil {
		t.Fatal(err)
	}
	o := &RelayOptions{}
	o.Network = network
	o.Listen = transport.Endpoint{Host: "127.0.0.1"}
	if o.Target.Port, err = strconv.Atoi(port); err != nil {
		t.Fatal(err)
	}
	o.Target.Host = host
	o.UI = ui.New(tr.stderr, 1)
	ready := make(chan net.Addr, 1)
	o.OnReady = func(a net.Addr) { ready <- a }
	tweaked(o, tweak)
	addr, stop := startServer(t, "relay", ready, func(ctx context.Context) error { return Relay(ctx, o) })
	tr.addr, tr.stop = addr.String(), stop
	return tr
}

// startTarget runs a TCP server on 127.0.0.1:0 that hands each connection
// to handle (then closes it), and returns its address. Every connection
// is closed, and every handler has returned, by cleanup.
func startTarget(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	return porttest.Serve(t, "127.0.0.1:0", func(c net.Conn) {
		c.SetDeadline(time.Now().Add(60 * time.Second))
		handle(c)
	}).String()
}

// echoBack echoes a connection up to the client's EOF, then half-closes.
func echoBack(c net.Conn) {
	if _, err := io.Copy(c, c); err != nil {
		return
	}
	c.(*net.TCPConn).CloseWrite()
}

// randomPayload returns 1 to max pseudo-random bytes, the same for a seed.
func randomPayload(seed uint64, max int) []byte {
	var key [32]byte
	key[0], key[1] = byte(seed), byte(seed>>8)
	src := rand.NewChaCha8(key)
	p := make([]byte, 1+rand.New(src).IntN(max))
	src.Read(p)
	return p
}

func sum(p []byte) string {
	s := sha256.Sum256(p)
	return hex.EncodeToString(s[:])
}

// roundTrip sends payload through addr, half-closes, and returns what
// came back up to EOF, and the client's local address.
func roundTrip(addr string, payload []byte) ([]byte, string, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, "", err
	}
	defer c.Close()
	local := c.LocalAddr().String()
	c.SetDeadline(time.Now().Add(60 * time.Second))
	type result struct {
		b   []byte
		err error
	}
	got := make(chan result, 1)
	go func() {
		b, err := io.ReadAll(c)
		got <- result{b, err}
	}()
	_, werr := c.Write(payload)
	if werr == nil {
		werr = c.(*net.TCPConn).CloseWrite()
	}
	if werr != nil {
		c.Close()
	}
	res := <-got
	if werr != nil {
		return res.b, local, werr
	}
	return res.b, local, res.err
}

// Many clients at once, each with up to 1 MiB both ways: every byte
// arrives, in order, on both paths (io.Copy/splice, and the observed loop
// that an idle timeout turns on); each connection gets a -v summary with
// its exact byte counts, and Ctrl-C reports the totals.
func TestRelayManyClients(t *testing.T) {
	for _, tc := range []struct {
		name    string
		clients int
		idle    time.Duration
	}{
		{"splice", 100, 0},
		{"observed", 40, time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Cleanup(func() { goleak.VerifyNone(t) }) // runs last
			target := startTarget(t, echoBack)
			r := startRelay(t, "tcp", target, func(o *RelayOptions) { o.IdleTimeout = tc.idle })
			type result struct {
				local string
				size  int
				err   error
			}
			results := make(chan result, tc.clients)
			var wg sync.WaitGroup
			var total int64
			for i := range tc.clients {
				payload := randomPayload(uint64(i), 1<<20)
				total += int64(len(payload))
				wg.Add(1)
				go func() {
					defer wg.Done()
					got, local, err := roundTrip(r.addr, payload)
					if err == nil && sum(got) != sum(payload) {
						err = fmt.Errorf("client %d: got %d bytes back, sha256 differs from the %d sent", i, len(got), len(payload))
					}
					results <- result{local, len(payload), err}
				}()
			}
			wg.Wait()
			close(results)
			r.stop()
			log := r.stderr.String()
			for res := range results {
				if res.err != nil {
					t.Error(res.err)
					continue
				}
				want := fmt.Sprintf(`(?m)^sonde: conn \d+ %s → target %s: closed; %d bytes.* to target, %d bytes.* to client in `,
					regexp.QuoteMeta(res.local), regexp.QuoteMeta(target), res.size, res.size)
				if !regexp.MustCompile(want).MatchString(log) {
					t.Errorf("no summary line for %s (%d bytes each way)", res.local, res.size)
				}
			}
			want := fmt.Sprintf("relayed %d connections (0 refused, 0 could not reach the target): %d bytes", tc.clients, total)
			if !strings.Contains(log, want) {
				t.Errorf("totals: want %q in\n%s", want, lastLines(log, 3))
			}
		})
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// Half-close passes through in both directions, on both copy paths.
func TestRelayHalfClose(t *testing.T) {
	for _, path := range []struct {
		name string
		idle time.Duration
	}{{"splice", 0}, {"observed", time.Minute}} {
		// The client half-closes; the target reads to EOF, and only then
		// answers. The answer must still reach the client.
		t.Run(path.name+"/client first", func(t *testing.T) {
			t.Cleanup(func() { goleak.VerifyNone(t) })
			target := startTarget(t, func(c net.Conn) {
				req, err := io.ReadAll(c) // returns only at the client's EOF
				if err != nil {
					return
				}
				fmt.Fprintf(c, "after EOF: got %q", req)
			})
			r := startRelay(t, "tcp", target, func(o *RelayOptions) { o.IdleTimeout = path.idle })
			got, _, err := roundTrip(r.addr, []byte("request"))
			if err != nil {
				t.Fatal(err)
			}
			if want := `after EOF: got "request"`; string(got) != want {
				t.Fatalf("client got %q, want %q", got, want)
			}
		})
		// The target half-closes after a banner; the client reads to EOF,
		// and only then sends. What it sends must still reach the target.
		t.Run(path.name+"/target first", func(t *testing.T) {
			t.Cleanup(func() { goleak.VerifyNone(t) })
			gotByTarget := make(chan string, 1)
			target := startTarget(t, func(c net.Conn) {
				io.WriteString(c, "banner")
				c.(*net.TCPConn).CloseWrite()
				b, _ := io.ReadAll(c)
				gotByTarget <- string(b)
			})
			r := startRelay(t, "tcp", target, func(o *RelayOptions) { o.IdleTimeout = path.idle })
			c := dialServer(t, r.addr)
			banner, err := io.ReadAll(c) // returns only at the target's EOF
			if err != nil || string(banner) != "banner" {
				t.Fatalf("client got %q, %v; want the banner then EOF", banner, err)
			}
			if _, err := io.WriteString(c, "sent after EOF"); err != nil {
				t.Fatal(err)
			}
			c.(*net.TCPConn).CloseWrite()
			select {
			case got := <-gotByTarget:
				if got != "sent after EOF" {
					t.Fatalf("target got %q", got)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("target never got the client's data and EOF")
			}
			if n, err := c.Read(make([]byte, 1)); n != 0 || err != io.EOF {
				t.Fatalf("after both sides ended: read %d, %v; want EOF", n, err)
			}
		})
	}
}

// A target that resets its connection resets the client's too, and the
// -v summary says so (and, where sonde copies by itself, which side).
func TestRelayPassesResetOn(t *testing.T) {
	for _, tc := range []struct {
		name string
		idle time.Duration
		want string
	}{
		{"splice", 0, ": connection reset by peer; 1 byte to target"},
		{"observed", time.Minute, ": target: connection reset by peer; 1 byte to target"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Cleanup(func() { goleak.VerifyNone(t) })
			target := startTarget(t, func(c net.Conn) {
				c.Read(make([]byte, 1))
				c.(*net.TCPConn).SetLinger(0)
				c.Close()
			})
			r := startRelay(t, "tcp", target, func(o *RelayOptions) { o.IdleTimeout = tc.idle })
			c := dialServer(t, r.addr)
			io.WriteString(c, "x")
			_, err := io.ReadAll(c)
			if !errors.Is(err, syscall.ECONNRESET) {
				t.Fatalf("client read: %v, want a connection reset", err)
			}
			// The client may see the reset before the relay has logged the
			// connection: wait (bounded) for its summary (not the line that
			// says it opened) before stopping.
			for deadline := time.Now().Add(30 * time.Second); !strings.Contains(r.stderr.String(), " bytes to target, ") && time.Now().Before(deadline); {
				time.Sleep(5 * time.Millisecond)
			}
			r.stop()
			if !strings.Contains(r.stderr.String(), tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, r.stderr.String())
			}
		})
	}
}

// A target that cannot be reached: the client is reset, and the reason is
// reported without -v.
func TestRelayTargetRefused(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	target := porttest.ClosedPort(t).String()
	r := startRelay(t, "tcp", target, func(o *RelayOptions) { o.UI = ui.New(o.UI.Writer(), 0) })
	// The reset may come so soon that it ends the client's connect.
	c, err := net.Dial("tcp", r.addr)
	if err == nil {
		defer c.Close()
		c.SetDeadline(time.Now().Add(30 * time.Second))
		var b []byte
		b, err = io.ReadAll(c)
		if len(b) != 0 {
			t.Fatalf("client got %q; want a reset", b)
		}
	}
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("client: %v; want a reset", err)
	}
	r.stop()
	log := r.stderr.String()
	want := regexp.MustCompile(`(?m)^sonde: warning: conn 1 127\.0\.0\.1:\d+: cannot connect to ` + regexp.QuoteMeta(target) + `: connection refused\n` +
		`sonde: hint: .*\n` +
		`sonde: relayed 1 connection \(0 refused, 1 could not reach the target\)`)
	if !want.MatchString(log) {
		t.Errorf("stderr does not match %s:\n%s", want, log)
	}
}

// A target that stays down under a stream of clients: one warning, not
// one per client; the totals count every client.
func TestRelayTargetDownWarnsOnce(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	target := porttest.ClosedPort(t).String()
	r := startRelay(t, "tcp", target, func(o *RelayOptions) { o.UI = ui.New(o.UI.Writer(), 0) })
	const clients = 5
	for range clients {
		c, err := net.Dial("tcp", r.addr)
		if err == nil {
			c.SetDeadline(time.Now().Add(30 * time.Second))
			_, err = io.ReadAll(c) // the reset: the relay is done with this client
			c.Close()
		}
		if !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("client: %v; want a reset", err)
		}
	}
	r.stop()
	log := r.stderr.String()
	if n := strings.Count(log, "cannot connect to"); n != 1 {
		t.Errorf("%d warnings for %d clients, want 1:\n%s", n, clients, log)
	}
	if !strings.Contains(log, "relayed 5 connections (0 refused, 5 could not reach the target)") {
		t.Errorf("the totals do not count every client:\n%s", log)
	}
}

// --hex: one stream per connection; "> " lines rebuild exactly what went
// to the target, "< " lines what came back, and each connection's first
// annotation names client and target.
func TestRelayHexRebuildsBothStreams(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	target := startTarget(t, func(c net.Conn) {
		b, _ := io.ReadAll(c)
		c.Write(bytes.ToUpper(b)) // a reply that differs from the request
	})
	var hexOut proctest.Buffer
	r := startRelay(t, "tcp", target, func(o *RelayOptions) { o.Hex = transport.NewHexLog(&hexOut, transport.HexColors{}) })
	const clients = 8
	sent := make(map[string][]byte) // by client address
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range clients {
		payload := randomPayload(uint64(100+i), 64<<10)
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, local, err := roundTrip(r.addr, payload)
			if err != nil || !bytes.Equal(got, bytes.ToUpper(payload)) {
				t.Errorf("client %d: %d bytes back, %v", i, len(got), err)
			}
			mu.Lock()
			sent[local] = payload
			mu.Unlock()
		}()
	}
	wg.Wait()
	r.stop()
	streams, peers, err := parseHexDump(hexOut.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(streams) != clients {
		t.Fatalf("dump has %d connections, want %d", len(streams), clients)
	}
	for id, s := range streams {
		peer := peers[id]
		client, tgt, ok := strings.Cut(peer, " → target ")
		if !ok || tgt != target {
			t.Errorf("conn %d: annotation %q, want CLIENT → target %s", id, peer, target)
			continue
		}
		want, ok := sent[client]
		if !ok {
			t.Errorf("conn %d: annotation names %s, which is no client", id, client)
			continue
		}
		if !bytes.Equal(s['>'], want) {
			t.Errorf("conn %d: > lines rebuild %d bytes, want the %d the client sent", id, len(s['>']), len(want))
		}
		if !bytes.Equal(s['<'], bytes.ToUpper(want)) {
			t.Errorf("conn %d: < lines rebuild %d bytes, want the target's %d", id, len(s['<']), len(want))
		}
	}
}

var (
	noteLine   = regexp.MustCompile(`^# \d\d:\d\d:\d\d\.\d{6} conn (\d+): (.*)$`)
	switchLine = regexp.MustCompile(`^# conn (\d+)$`)
)

// parseHexDump rebuilds each connection's two byte streams from a dump,
// checking each line's offset, and returns the first note of each.
func parseHexDump(dump string) (map[int]map[byte][]byte, map[int]string, error) {
	streams := make(map[int]map[byte][]byte)
	notes := make(map[int]string)
	conn := -1
	sc := bufio.NewScanner(strings.NewReader(dump))
	for sc.Scan() {
		line := sc.Text()
		if m := noteLine.FindStringSubmatch(line); m != nil {
			conn, _ = strconv.Atoi(m[1])
			if _, ok := notes[conn]; !ok {
				notes[conn] = m[2]
			}
			continue
		}
		if m := switchLine.FindStringSubmatch(line); m != nil {
			conn, _ = strconv.Atoi(m[1])
			continue
		}
		if len(line) < 62 || line[0] != '>' && line[0] != '<' || conn < 0 {
			return nil, nil, fmt.Errorf("unexpected dump line %q", line)
		}
		if streams[conn] == nil {
			streams[conn] = make(map[byte][]byte)
		}
		dir := line[0]
		off, err := strconv.ParseInt(line[2:10], 16, 64)
		if err != nil || off != int64(len(streams[conn][dir])) {
			return nil, nil, fmt.Errorf("conn %d: line %q at offset %d, want %d", conn, line, off, len(streams[conn][dir]))
		}
		for _, f := range strings.Fields(line[12:61]) {
			b, err := strconv.ParseUint(f, 16, 8)
			if err != nil {
				return nil, nil, fmt.Errorf("bad hex %q in %q", f, line)
			}
			streams[conn][dir] = append(streams[conn][dir], byte(b))
		}
	}
	return streams, notes, nil
}

// A connection through which nothing moves for --idle-timeout is closed
// on both sides, while a busy one is left alone.
func TestRelayIdleTimeout(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	targetSawEOF := make(chan bool, 2)
	target := startTarget(t, func(c net.Conn) {
		_, err := io.Copy(c, c)
		targetSawEOF <- err == nil
	})
	r := startRelay(t, "tcp", target, func(o *RelayOptions) { o.IdleTimeout = 200 * time.Millisecond })
	idle := dialServer(t, r.addr)
	if n, err := idle.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("idle client: read %d, %v; want EOF from the idle timeout", n, err)
	}
	select {
	case ok := <-targetSawEOF:
		if !ok {
			t.Error("target side of the idle connection ended with an error, want EOF")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("target side of the idle connection was never closed")
	}
	r.stop()
	if want := "idle for 200ms, closed; 0 bytes to target, 0 bytes to client"; !strings.Contains(r.stderr.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, r.stderr.String())
	}
}

// --allow/--deny: a refused client is reset at once, never reaches the
// target, and is logged with -v; a permitted one is relayed.
func TestRelayAccess(t *testing.T) {
	for _, tc := range []struct {
		name        string
		allow, deny []string
		permitted   bool
		why         string
	}{
		{"deny matches", nil, []string{"127.0.0.0/8"}, false, "matches --deny 127.0.0.0/8"},
		{"allow misses", []string{"::1", "10.0.0.0/8"}, nil, false, "matches no --allow rule"},
		{"allow matches", []string{"127.0.0.1"}, []string{"10.0.0.0/8"}, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Cleanup(func() { goleak.VerifyNone(t) })
			reached := make(chan struct{}, 1)
			target := startTarget(t, func(c net.Conn) {
				reached <- struct{}{}
				echoBack(c)
			})
			acl, err := transport.NewAccessList(context.Background(), tc.allow, tc.deny, true)
			if err != nil {
				t.Fatal(err)
			}
			r := startRelay(t, "tcp", target, func(o *RelayOptions) { o.Access = acl })
			if tc.permitted {
				got, _, err := roundTrip(r.addr, []byte("hello"))
				if err != nil || string(got) != "hello" {
					t.Fatalf("permitted client got %q, %v", got, err)
				}
				return
			}
			expectReset(t, tcpAddr(t, r.addr))
			r.stop()
			select {
			case <-reached:
				t.Error("a refused client reached the target")
			default:
			}
			want := `(?m)^sonde: refused 127\.0\.0\.1:\d+: ` + regexp.QuoteMeta(tc.why) + `$`
			if !regexp.MustCompile(want).MatchString(r.stderr.String()) {
				t.Errorf("stderr does not match %s:\n%s", want, r.stderr.String())
			}
		})
	}
}

// --max-conns: a client over the limit is reset at once and logged; the
// one being relayed is not disturbed.
func TestRelayMaxConns(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	target := startTarget(t, func(c net.Conn) { io.Copy(c, c) })
	r := startRelay(t, "tcp", target, func(o *RelayOptions) { o.MaxConns = 1 })
	first := dialServer(t, r.addr)
	// A round trip proves the first client is being relayed.
	if _, err := io.WriteString(first, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(first, make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	expectReset(t, tcpAddr(t, r.addr)) // the second client
	if _, err := io.WriteString(first, "c"); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(first, make([]byte, 1)); err != nil {
		t.Fatalf("first client after the refusal: %v", err)
	}
	first.Close()
	r.stop()
	log := r.stderr.String()
	for _, want := range []string{
		`(?m)^sonde: refused 127\.0\.0\.1:\d+: 1 connection relayed \(--max-conns\)$`,
		`relayed 1 connection \(1 refused, 0 could not reach the target\)`,
	} {
		if !regexp.MustCompile(want).MatchString(log) {
			t.Errorf("stderr does not match %s:\n%s", want, log)
		}
	}
}

// A relay whose target is its own listening address would loop.
func TestRelayToItselfIsRefused(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	ln.Close()
	o := &RelayOptions{Target: transport.Endpoint{Host: "127.0.0.1", Port: addr.Port}}
	o.Network = "tcp"
	o.Listen = transport.Endpoint{Host: "127.0.0.1", Port: addr.Port}
	o.UI = ui.New(io.Discard, 0)
	err = Relay(context.Background(), o)
	var in *transport.InputError
	if !errors.As(err, &in) || !strings.Contains(in.Msg, "own address") {
		t.Fatalf("got %v, want a usage error about relaying to itself", err)
	}
}

// startUDPEcho runs a UDP echo server on 127.0.0.1:0 that records each
// sender's address; it stops at cleanup.
func startUDPEcho(t *testing.T) (string, func() []string) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu      sync.Mutex
		senders []string
		seen    = make(map[string]bool)
		done    = make(chan struct{})
	)
	go func() {
		defer close(done)
		buf := make([]byte, 64<<10)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			mu.Lock()
			if !seen[from.String()] {
				seen[from.String()] = true
				senders = append(senders, from.String())
			}
			mu.Unlock()
			pc.WriteTo(buf[:n], from)
		}
	}()
	t.Cleanup(func() { pc.Close(); <-done })
	return pc.LocalAddr().String(), func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), senders...)
	}
}

// Two UDP clients, each with its own session (its own source address at
// the target); datagram boundaries are kept up to 65,507 bytes, and each
// reply reaches the client that asked.
func TestRelayUDPSessions(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	target, senders := startUDPEcho(t)
	r := startRelay(t, "udp", target, nil)
	var clients [2]net.Conn
	for i := range clients {
		c, err := net.Dial("udp", r.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		clients[i] = c
	}
	buf := make([]byte, 70000)
	var total int64
	for _, size := range []int{1, 512, 1472, 9000, 65507} {
		for i, c := range clients {
			p := bytes.Repeat([]byte{byte(size + i)}, size)
			c.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := c.Write(p); err != nil {
				t.Fatal(err)
			}
			n, err := c.Read(buf)
			if err != nil {
				t.Fatalf("client %d, size %d: %v", i, size, err)
			}
			if !bytes.Equal(buf[:n], p) {
				t.Errorf("client %d, size %d: got %d bytes back, not the datagram sent", i, n, size)
			}
			total += int64(size)
		}
	}
	if s := senders(); len(s) != 2 {
		t.Errorf("the target saw senders %v, want one per client", s)
	}
	r.stop()
	want := fmt.Sprintf("relayed 2 sessions (0 datagrams refused): 10 datagrams (%d bytes", total)
	if !strings.Contains(r.stderr.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, r.stderr.String())
	}
}

// A UDP session ends after the idle timeout; the client's next datagram
// opens a new one (a new source address at the target).
func TestRelayUDPSessionExpires(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	target, senders := startUDPEcho(t)
	r := startRelay(t, "udp", target, func(o *RelayOptions) { o.IdleTimeout = time.Second })
	c, err := net.Dial("udp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	buf := make([]byte, 100)
	exchange := func() {
		t.Helper()
		if _, err := c.Write([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		if n, err := c.Read(buf); err != nil || string(buf[:n]) != "ping" {
			t.Fatalf("got %q, %v", buf[:n], err)
		}
	}
	exchange()
	expired := regexp.MustCompile(`conn 1 \S+ → target \S+: idle for 1s, closed; 1 datagram \(4 bytes\) to target, 1 datagram \(4 bytes\) to client`)
	for deadline := time.Now().Add(20 * time.Second); !expired.MatchString(r.stderr.String()); {
		if time.Now().After(deadline) {
			t.Fatalf("session 1 never expired:\n%s", r.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	exchange()
	if s := senders(); len(s) != 2 {
		t.Errorf("the target saw senders %v, want a new one after the expiry", s)
	}
}

// UDP --deny and --max-conns drop datagrams of refused senders, and log
// each refused sender once.
func TestRelayUDPRefuses(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	target, senders := startUDPEcho(t)
	r := startRelay(t, "udp", target, func(o *RelayOptions) { o.MaxConns = 1 })
	first, err := net.Dial("udp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	first.SetDeadline(time.Now().Add(10 * time.Second))
	first.Write([]byte("1"))
	if _, err := first.Read(make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	second, err := net.Dial("udp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	for range 3 {
		second.Write([]byte("2"))
	}
	// The first client's next round trip orders it after the refusals:
	// one socket, read in order.
	first.Write([]byte("3"))
	if _, err := first.Read(make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	if s := senders(); len(s) != 1 {
		t.Errorf("the target saw senders %v, want only the first client's session", s)
	}
	r.stop()
	log := r.stderr.String()
	if n := strings.Count(log, "refused "+second.LocalAddr().String()+": 1 session relayed (--max-conns)"); n != 1 {
		t.Errorf("refusal logged %d times, want once:\n%s", n, log)
	}
	if want := "(3 datagrams refused)"; !strings.Contains(log, want) {
		t.Errorf("stderr lacks %q:\n%s", want, log)
	}
}

// TLS on both sides: the client speaks TLS to the relay (--tls-listen),
// the relay speaks TLS to the target (--tls, trusting it by --pin). The
// bytes arrive intact, half-closes pass as close_notify both ways, and
// --hex shows the plain text.
func TestRelayTLSBothSides(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	targetCfg, targetLeaf := loopbackTLS(t)
	plain := startTarget(t, func(c net.Conn) {
		tc := tls.Server(c, targetCfg)
		b, err := io.ReadAll(tc) // returns only at the client's close_notify
		if err != nil {
			return
		}
		tc.Write(bytes.ToUpper(b))
		tc.CloseWrite()
		io.Copy(io.Discard, tc)
	})
	toTarget, err := transport.ClientTLSConfig(transport.TLSOptions{Pin: transport.SPKIPin(targetLeaf)}, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	relayCfg, relayLeaf := loopbackTLS(t)
	var hexOut proctest.Buffer
	r := startRelay(t, "tcp", plain, func(o *RelayOptions) {
		o.TLSClient, o.TLSServer = toTarget, relayCfg
		o.Hex = transport.NewHexLog(&hexOut, transport.HexColors{})
	})
	toRelay, err := transport.ClientTLSConfig(transport.TLSOptions{Pin: transport.SPKIPin(relayLeaf)}, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	raw := dialServer(t, r.addr)
	c := tls.Client(raw, toRelay)
	payload := randomPayload(7, 256<<10)
	if _, err := c.Write(payload); err != nil {
		t.Fatal(err)
	}
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c)
	if err != nil || !bytes.Equal(got, bytes.ToUpper(payload)) {
		t.Fatalf("client got %d bytes (%v), want the %d sent, upper-cased", len(got), err, len(payload))
	}
	c.Close()
	r.stop()
	streams, _, err := parseHexDump(hexOut.String())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(streams[1]['>'], payload) || !bytes.Equal(streams[1]['<'], bytes.ToUpper(payload)) {
		t.Errorf("the dump does not hold the plain text: %d bytes >, %d bytes <", len(streams[1]['>']), len(streams[1]['<']))
	}
}

// A target whose certificate fails verification: the client is reset and
// the reason is reported without -v, as for any target that cannot be
// reached.
func TestRelayTLSTargetUnverified(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	targetCfg, _ := loopbackTLS(t)
	plain := startTarget(t, func(c net.Conn) {
		tls.Server(c, targetCfg).Handshake()
	})
	toTarget, err := transport.ClientTLSConfig(transport.TLSOptions{}, "127.0.0.1") // system roots
	if err != nil {
		t.Fatal(err)
	}
	r := startRelay(t, "tcp", plain, func(o *RelayOptions) {
		o.TLSClient = toTarget
		o.UI = ui.New(o.UI.Writer(), 0)
	})
	c, err := net.Dial("tcp", r.addr)
	if err == nil {
		defer c.Close()
		c.SetDeadline(time.Now().Add(30 * time.Second))
		var b []byte
		if b, err = io.ReadAll(c); len(b) != 0 {
			t.Fatalf("client got %q", b)
		}
	}
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("client: %v; want a reset", err)
	}
	r.stop()
	if want := "unknown authority"; !strings.Contains(r.stderr.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, r.stderr.String())
	}
}
