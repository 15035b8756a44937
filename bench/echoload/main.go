// Command echoload is the load generator of the echo-load benchmark
// (bench/echo.sh). It opens -conns TCP connections to an echo server and
// runs a closed loop on each: write -size bytes, read exactly -size bytes
// back, check them, record the round-trip time; -rounds times per
// connection. All connections start their timed loops together, after every
// connection is open and has done one checked, untimed warm-up round trip
// (so a server that forks per client has accepted and set up every client
// before the clock starts).
//
//	echoload -addr 127.0.0.1:7007 -conns 1000 -rounds 200
//
// It prints one line of key=value pairs on stdout:
//
//	conns=1000 rounds=200 size=64 roundtrips=200000 errors=0 conn_errors=0
//	bad=0 setup_s=0.412 elapsed_s=3.412 rtps=58616 p50_us=14012 p99_us=40117 max_us=91220
//
// roundtrips counts the timed round trips that completed and checked out;
// errors counts failed round trips (I/O errors, timeouts, wrong bytes) and
// conn_errors connections that could not be opened or failed their warm-up;
// bad counts the round trips, warm-up included, whose reply had wrong bytes.
// setup_s is the time taken to open and warm up every connection, elapsed_s
// the time of the timed loops (from their common start to the last one's
// end); rtps = roundtrips / elapsed_s.
// A connection that fails stops and its remaining round trips count as
// errors. Latencies are in microseconds over all completed round trips.
// The exit status is 1 if anything failed, 2 on bad flags.
//
// Connections are opened -ramp at a time (default 8), each with its warm-up
// round trip, so a server never sees more than -ramp connects pending. That
// matters for ncat, which listens with a backlog of 10: a bigger burst
// overflows its accept queue, Linux then drops the handshake's last ACK, and
// the client, which already believes it is connected, can wait for its
// reply until the deadline.
//
// With -idle DUR it only opens the connections, does the warm-up round trip,
// prints "echoload: N connections open and idle" on stderr, holds them
// DUR, then closes them (the RSS measurement in bench/echo.sh).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	var (
		addr     = flag.String("addr", "", "echo server HOST:PORT (required)")
		conns    = flag.Int("conns", 100, "concurrent connections")
		rounds   = flag.Int("rounds", 1000, "timed round trips per connection")
		size     = flag.Int("size", 64, "bytes per round trip")
		timeout  = flag.Duration("timeout", 60*time.Second, "deadline for the whole run (connect, warm-up and timed rounds)")
		ramp     = flag.Int("ramp", 8, "connections being opened (and warmed up) at once")
		retries  = flag.Int("retries", 5, "extra attempts per connection on refused / address not available / timeout")
		dialWait = flag.Duration("dial-timeout", 5*time.Second, "bound on one connection attempt")
		idle     = flag.Duration("idle", 0, "open the connections, hold them idle this long, exit (no timed rounds)")
	)
	flag.Parse()
	if *addr == "" || *conns < 1 || *rounds < 1 || *size < 1 || *ramp < 1 || *retries < 0 || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: echoload -addr HOST:PORT [-conns N] [-rounds M] [-size BYTES] [-timeout DUR] [-idle DUR]")
		os.Exit(2)
	}
	began := time.Now()
	deadline := began.Add(*timeout)
	l := &load{}

	// Open every connection, at most -ramp attempts at once, and do one
	// checked warm-up round trip on each.
	cs := make([]net.Conn, *conns)
	sem := make(chan struct{}, *ramp)
	var wg sync.WaitGroup
	for i := range cs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := dial(*addr, *retries, *dialWait, deadline)
			if err == nil {
				c.SetDeadline(deadline)
				buf := make([]byte, 2**size)
				if err = roundTrip(c, i, -1, buf[:*size], buf[*size:]); err != nil {
					c.Close()
					c = nil
				}
			}
			if err != nil {
				l.connErrs.Add(1)
				l.noteErr(fmt.Errorf("connection %d: %w", i, err))
				return
			}
			cs[i] = c
		}()
	}
	wg.Wait()
	setup := time.Since(began)
	open := 0
	for _, c := range cs {
		if c != nil {
			open++
		}
	}

	if *idle > 0 {
		fmt.Fprintf(os.Stderr, "echoload: %d connections open and idle\n", open)
		time.Sleep(*idle)
		for _, c := range cs {
			if c != nil {
				c.Close()
			}
		}
		fmt.Printf("conns=%d open=%d conn_errors=%d bad=%d setup_s=%.3f idle_s=%.1f\n", *conns, open, l.connErrs.Load(), l.bad.Load(), setup.Seconds(), idle.Seconds())
		l.reportFirstErr()
		if l.connErrs.Load() > 0 {
			os.Exit(1)
		}
		return
	}

	// Timed closed loops, all released together.
	lat := make([][]int64, len(cs)) // per connection, nanoseconds
	start := make(chan struct{})
	for i, c := range cs {
		if c == nil {
			l.errs.Add(int64(*rounds))
			continue
		}
		lat[i] = make([]int64, 0, *rounds)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			buf := make([]byte, 2**size)
			<-start
			for r := range *rounds {
				t0 := time.Now()
				if err := roundTrip(c, i, r, buf[:*size], buf[*size:]); err != nil {
					l.errs.Add(int64(*rounds - r))
					l.noteErr(fmt.Errorf("connection %d, round trip %d: %w", i, r, err))
					return
				}
				lat[i] = append(lat[i], int64(time.Since(t0)))
			}
		}()
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	elapsed := time.Since(t0)

	all := make([]int64, 0, len(cs)**rounds)
	for _, s := range lat {
		all = append(all, s...)
	}
	slices.Sort(all)
	pct := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		i := int(p*float64(len(all))+0.5) - 1 // nearest rank
		i = max(0, min(i, len(all)-1))
		return float64(all[i]) / 1e3
	}
	fmt.Printf("conns=%d rounds=%d size=%d roundtrips=%d errors=%d conn_errors=%d bad=%d setup_s=%.3f elapsed_s=%.3f rtps=%.0f p50_us=%.0f p99_us=%.0f max_us=%.0f\n",
		*conns, *rounds, *size, len(all), l.errs.Load(), l.connErrs.Load(), l.bad.Load(), setup.Seconds(), elapsed.Seconds(),
		float64(len(all))/elapsed.Seconds(), pct(0.50), pct(0.99), pct(1.0))
	l.reportFirstErr()
	if l.errs.Load() > 0 || l.connErrs.Load() > 0 {
		os.Exit(1)
	}
}

type load struct {
	errs     atomic.Int64 // failed timed round trips
	connErrs atomic.Int64 // connections not opened or failed warm-up
	errOnce  sync.Once
	firstErr error
	nErrs    atomic.Int64
	bad      atomic.Int64 // replies with wrong bytes
}

func (l *load) noteErr(err error) {
	l.nErrs.Add(1)
	if errors.Is(err, errVerify) {
		l.bad.Add(1)
	}
	l.errOnce.Do(func() { l.firstErr = err })
}

func (l *load) reportFirstErr() {
	if n := l.nErrs.Load(); n > 0 {
		fmt.Fprintf(os.Stderr, "echoload: %d connections failed; first: %v\n", n, l.firstErr)
	}
}

// dial connects, retrying a bounded number of times (with a growing pause)
// on the errors a loaded loopback gives: refused (accept queue full or the
// server not ready), address not available (ephemeral ports exhausted) and
// attempt timeouts.
func dial(addr string, retries int, attempt time.Duration, deadline time.Time) (net.Conn, error) {
	d := net.Dialer{}
	pause := 10 * time.Millisecond
	for try := 0; ; try++ {
		d.Deadline = time.Now().Add(attempt)
		if d.Deadline.After(deadline) {
			d.Deadline = deadline
		}
		c, err := d.Dial("tcp", addr)
		if err == nil {
			return c, nil
		}
		var ne net.Error
		retryable := errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EADDRNOTAVAIL) ||
			errors.Is(err, syscall.ECONNRESET) || (errors.As(err, &ne) && ne.Timeout())
		if !retryable || try >= retries || time.Now().Add(pause).After(deadline) {
			return nil, fmt.Errorf("after %d attempts: %w", try+1, err)
		}
		time.Sleep(pause)
		pause *= 2
	}
}

// roundTrip writes one payload and reads exactly as many bytes back,
// checking them. The payload depends on the connection and the round, so
// bytes that belong to another client or another round do not pass.
func roundTrip(c net.Conn, conn, round int, out, in []byte) error {
	fill(out, conn, round)
	if _, err := c.Write(out); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if n, err := io.ReadFull(c, in); err != nil {
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			return fmt.Errorf("server closed after %d of %d bytes: %w", n, len(in), err)
		}
		return fmt.Errorf("read (%d of %d bytes): %w", n, len(in), err)
	}
	for i := range in {
		if in[i] != out[i] {
			return fmt.Errorf("%w: byte %d is %#02x, sent %#02x", errVerify, i, in[i], out[i])
		}
	}
	return nil
}

var errVerify = errors.New("verification failed")

func fill(p []byte, conn, round int) {
	x := uint32(conn)*2654435761 ^ uint32(round+1)*40503
	for i := range p {
		x = x*1664525 + 1013904223
		p[i] = byte(x >> 24)
	}
}
