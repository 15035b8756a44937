package modes

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"net"
	"time"
)

// The frames that ping --udp and ping --echo send and expect back, and
// the connection that carries them.

// A probe frame is what UDP and echo probes carry, 28 bytes: a magic
// number, the session's random nonce (so stray datagrams are ignored),
// the sequence number and the send time in nanoseconds since the session
// began (monotonic).
const (
	frameMagic = 0x736e6450 // "sndP"
	frameLen   = 28
)

type frameCodec struct {
	nonce uint64
	base  time.Time
}

func (f *frameCodec) encode(seq int) []byte {
	b := make([]byte, frameLen)
	binary.BigEndian.PutUint32(b[0:], frameMagic)
	binary.BigEndian.PutUint64(b[4:], f.nonce)
	binary.BigEndian.PutUint64(b[12:], uint64(seq))
	binary.BigEndian.PutUint64(b[20:], uint64(time.Since(f.base)))
	return b
}

// decode checks a frame and returns its sequence number and round trip.
func (f *frameCodec) decode(b []byte) (seq int, rtt time.Duration, ok bool) {
	if len(b) != frameLen || binary.BigEndian.Uint32(b[0:]) != frameMagic || binary.BigEndian.Uint64(b[4:]) != f.nonce {
		return 0, 0, false
	}
	seq64 := binary.BigEndian.Uint64(b[12:])
	sent := time.Duration(binary.BigEndian.Uint64(b[20:]))
	rtt = time.Since(f.base) - sent
	if seq64 < 1 || seq64 > math.MaxInt32 || sent < 0 || rtt < 0 {
		return 0, 0, false
	}
	return int(seq64), rtt, true
}

func newFrameCodec() frameCodec {
	return frameCodec{nonce: rand.Uint64(), base: time.Now()}
}

// frameConn is what the UDP and the --echo pinger share: one connection
// that carries the probe frames both ways, and the goroutine (receive)
// that reads the replies and reports them until close.
type frameConn struct {
	conn    net.Conn
	codec   frameCodec
	replies chan<- pingReply
	done    chan struct{} // closed when receive has returned
	stop    chan struct{} // closed by close
}

func newFrameConn(conn net.Conn, replies chan<- pingReply) frameConn {
	return frameConn{conn: conn, codec: newFrameCodec(), replies: replies, done: make(chan struct{}), stop: make(chan struct{})}
}

// report hands a reply to the ping loop. It tells whether receive should
// go on: not once close was called, nor after an error, which ends the
// ping.
func (p *frameConn) report(r pingReply) bool {
	select {
	case p.replies <- r:
	case <-p.stop:
		return false
	}
	return r.err == nil
}

// timed: a frame that never comes back is failed by the ping loop.
func (p *frameConn) timed() bool { return true }

func (p *frameConn) close() {
	close(p.stop)
	p.conn.Close()
	<-p.done
}
