package modes

// Datagrams in batches. When several datagrams are ready, the UDP paths
// read them, write them to stdout and send them with one system call
// (recvmmsg and sendmmsg on Linux, see batch_linux.go; one at a time
// elsewhere). A datagram's boundary and its place in the order never
// change: each stays one buffer from the read to the send or to stdout.

import (
	"io"
	"net"
	"os"

	"golang.org/x/term"

	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

const (
	// batchSize is the most datagrams one system call reads or sends.
	batchSize = 64
	// receiveBuffer is the receive buffer a UDP socket asks for: about
	// 3,000 datagrams of 1,400 bytes wait there while sonde is busy.
	receiveBuffer = 4 << 20
)

// datagram is one datagram read: its bytes, its sender, and whether the
// kernel cut it to fit the buffer.
type datagram struct {
	p         []byte
	from      net.Addr
	truncated bool
}

// batchReader reads datagrams from one socket.
type batchReader interface {
	// read waits for at least one datagram and returns what one system
	// call brought, in order. The datagrams stay valid until the next read.
	read() ([]datagram, error)
}

// batchWriter sends datagrams on one socket.
type batchWriter interface {
	// write sends each of ps as one datagram, in order, to the address
	// of the same index in to (to is nil on a connected socket). It
	// returns how many went; err is about ps[sent].
	write(ps [][]byte, to []net.Addr) (sent int, err error)
}

// plainReader reads one datagram per system call.
type plainReader struct {
	c   datagramReader
	buf []byte
	one [1]datagram
}

func (r *plainReader) read() ([]datagram, error) {
	n, from, truncated, err := readDatagram(r.c, r.buf)
	if err != nil {
		return nil, err
	}
	r.one[0] = datagram{p: r.buf[:n], from: from, truncated: truncated}
	return r.one[:], nil
}

// plainWriter sends one datagram per system call on c: a connected
// socket (an io.Writer) when to is nil, else a net.PacketConn.
type plainWriter struct{ c any }

func (w plainWriter) write(ps [][]byte, to []net.Addr) (int, error) {
	for i, p := range ps {
		var err error
		if to == nil {
			_, err = w.c.(io.Writer).Write(p)
		} else {
			_, err = w.c.(net.PacketConn).WriteTo(p, to[i])
		}
		if err != nil {
			return i, err
		}
	}
	return len(ps), nil
}

// growReceiveBuffer gives a UDP socket room for bursts, and says with -vv
// what the system granted.
func growReceiveBuffer(u *ui.UI, c any, network string) {
	if network == "unixgram" {
		return // a Unix datagram waits in its sender's buffer, not here
	}
	got, ok := transport.GrowReceiveBuffer(c, receiveBuffer)
	switch {
	case !ok:
		u.Verbosef(2, "receive buffer: asked for %d bytes (what the system granted cannot be read)", receiveBuffer)
	case got < receiveBuffer:
		u.Verbosef(2, "receive buffer: %d bytes, less than the %d asked for (the system caps it: net.core.rmem_max on Linux)", got, receiveBuffer)
	default:
		u.Verbosef(2, "receive buffer: %d bytes", got)
	}
}

// byteStream tells whether w loses nothing by getting many datagrams in
// one write: a pipe, a file or a device such as /dev/null, which carry
// bytes and no boundaries. A socket may keep the boundaries of writes (a
// datagram or seqpacket pair), and a terminal shows each datagram as it
// comes, so those get one write per datagram.
func byteStream(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	mode := fi.Mode()
	switch {
	case mode.IsRegular(), mode&os.ModeNamedPipe != 0:
		return true
	case mode&os.ModeCharDevice != 0:
		return !term.IsTerminal(int(f.Fd()))
	}
	return false
}

// datagramDest is where stdin's datagrams go: a socket, and the address
// they are sent to, asked afresh for each batch (nil on a connected
// socket).
type datagramDest struct {
	w     batchWriter
	to    func() net.Addr
	addrs []net.Addr
}

// send sends each of ps as one datagram; see batchWriter.
func (d *datagramDest) send(ps [][]byte) (int, error) {
	if d.to == nil {
		return d.w.write(ps, nil)
	}
	addr := d.to()
	d.addrs = d.addrs[:0]
	for range ps {
		d.addrs = append(d.addrs, addr)
	}
	return d.w.write(ps, d.addrs)
}

// chunkReader reads stdin for sendReadAhead, each read into a buffer of
// its own.
type chunkReader interface {
	// read reads into bufs[0] or, when stdin keeps the boundaries of
	// messages (a datagram or seqpacket socket), into as many of bufs as
	// messages are waiting, one message each, after waiting for one. ns[i]
	// is what bufs[i] got; err comes after those bytes.
	read(bufs [][]byte) (ns []int, err error)
	// most is how many buffers one read can fill.
	most() int
}

// plainChunks reads r one read per call.
type plainChunks struct {
	r  io.Reader
	ns [1]int
}

func (c *plainChunks) read(bufs [][]byte) ([]int, error) {
	n, err := c.r.Read(bufs[0])
	c.ns[0] = n
	return c.ns[:], err
}

func (c *plainChunks) most() int { return 1 }

// sendReadAhead reads r on a goroutine of its own, one datagram per read
// (with crlf, each LF made CRLF), while the calling goroutine hands all
// the reads waiting to one call of send, which sends each as one
// datagram: a read is never split or joined to another. Where r is a
// socket that keeps message boundaries, one system call may read several
// messages, each still one datagram (see newChunkReader). It returns nil
// at EOF, a *stdinError if reading fails, or send's error. A read still
// blocked when it returns ends with the read, its bytes unsent.
func sendReadAhead(r io.Reader, crlf bool, send func(ps [][]byte) (int, error)) error {
	type chunk struct {
		buf, p []byte // p is what buf holds, or a CRLF copy of it
		err    error  // the read's error, after its bytes
	}
	rd := newChunkReader(r)
	free := make(chan []byte, batchSize)
	reads := make(chan chunk, batchSize)
	done := make(chan struct{})
	defer close(done)
	go func() {
		allocated, lastCR := 0, false
		spare := make([][]byte, 0, batchSize) // buffers to read into
		for {
			// One buffer at least, waited for if all are in use...
			for len(spare) == 0 {
				select {
				case buf := <-free:
					spare = append(spare, buf)
					continue
				default:
				}
				if allocated < batchSize {
					allocated++
					spare = append(spare, make([]byte, maxDatagram))
					continue
				}
				select {
				case buf := <-free:
					spare = append(spare, buf)
				case <-done:
					return
				}
			}
			// ...and as many more as one read can fill, not waited for.
		more:
			for len(spare) < rd.most() {
				select {
				case buf := <-free:
					spare = append(spare, buf)
				default:
					if allocated == batchSize {
						break more
					}
					allocated++
					spare = append(spare, make([]byte, maxDatagram))
				}
			}
			ns, err := rd.read(spare)
			if err == nil && (len(ns) == 0 || len(ns) == 1 && ns[0] == 0) {
				continue // nothing read: the buffers stay spare
			}
			if len(ns) == 0 {
				ns = []int{0} // the error alone, in a chunk of its own
			}
			for i, n := range ns {
				c := chunk{buf: spare[i], p: spare[i][:n]}
				if i == len(ns)-1 {
					c.err = err
				}
				if crlf {
					c.p, lastCR = toCRLF(c.p, lastCR)
				}
				select {
				case reads <- c:
				case <-done:
					return
				}
			}
			if err != nil {
				return
			}
			spare = spare[:copy(spare, spare[len(ns):])]
		}
	}()
	ps := make([][]byte, 0, batchSize)
	bufs := make([][]byte, 0, batchSize)
	for {
		ps, bufs = ps[:0], bufs[:0]
		var end error
		for c, more := <-reads, true; more; {
			if len(c.p) > 0 {
				ps = append(ps, c.p)
			}
			bufs = append(bufs, c.buf)
			if end = c.err; end != nil || len(bufs) == batchSize {
				break
			}
			select {
			case c = <-reads:
			default:
				more = false
			}
		}
		if len(ps) > 0 {
			if _, err := send(ps); err != nil {
				return err
			}
		}
		for _, b := range bufs {
			free <- b
		}
		switch {
		case end == io.EOF:
			return nil
		case end != nil:
			return &stdinError{end}
		}
	}
}
