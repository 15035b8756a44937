package modes

import (
	"io"
	"net"
	"syscall"

	"golang.org/x/net/ipv4"
)

// On Linux a UDP socket reads with recvmmsg and sends with sendmmsg,
// through x/net's batch calls. Those work at the socket level whatever
// the address family, so ipv4's PacketConn serves IPv6 sockets as well.

// mmsgReader reads up to batchSize datagrams per recvmmsg.
type mmsgReader struct {
	pc   *ipv4.PacketConn
	msgs []ipv4.Message
	got  []datagram
}

// newBatchReader reads c's datagrams into buffers of size bytes.
func newBatchReader(c datagramReader, size int) batchReader {
	u, ok := c.(*net.UDPConn)
	if !ok {
		return &plainReader{c: c, buf: make([]byte, size)}
	}
	r := &mmsgReader{pc: ipv4.NewPacketConn(u), msgs: make([]ipv4.Message, batchSize), got: make([]datagram, batchSize)}
	// One allocation: its pages are touched only as datagrams fill them.
	bufs := make([]byte, batchSize*size)
	for i := range r.msgs {
		r.msgs[i].Buffers = [][]byte{bufs[i*size : (i+1)*size : (i+1)*size]}
	}
	return r
}

func (r *mmsgReader) read() ([]datagram, error) {
	n, err := r.pc.ReadBatch(r.msgs, 0)
	if err != nil {
		return nil, err
	}
	for i, m := range r.msgs[:n] {
		r.got[i] = datagram{p: m.Buffers[0][:m.N], from: m.Addr, truncated: m.Flags&syscall.MSG_TRUNC != 0}
	}
	return r.got[:n], nil
}

// mmsgWriter sends up to batchSize datagrams per sendmmsg.
type mmsgWriter struct {
	pc   *ipv4.PacketConn
	msgs []ipv4.Message
	bufs [][]byte // msgs[i].Buffers is bufs[i : i+1]
}

// newBatchWriter sends datagrams on c, a connected socket or a
// net.PacketConn.
func newBatchWriter(c any) batchWriter {
	u, ok := c.(*net.UDPConn)
	if !ok {
		return plainWriter{c}
	}
	w := &mmsgWriter{pc: ipv4.NewPacketConn(u), msgs: make([]ipv4.Message, batchSize), bufs: make([][]byte, batchSize)}
	for i := range w.msgs {
		w.msgs[i].Buffers = w.bufs[i : i+1 : i+1]
	}
	return w
}

func (w *mmsgWriter) write(ps [][]byte, to []net.Addr) (int, error) {
	sent := 0
	for len(ps) > 0 {
		msgs := w.msgs[:min(len(ps), batchSize)]
		for i := range msgs {
			w.bufs[i] = ps[i]
			msgs[i].Addr = nil
			if to != nil {
				msgs[i].Addr = to[i]
			}
		}
		n, err := w.pc.WriteBatch(msgs, 0)
		sent += n
		if err == nil && n == 0 {
			err = io.ErrShortWrite // sendmmsg sends one at least, or fails
		}
		if err != nil {
			return sent, err
		}
		ps = ps[n:]
		if to != nil {
			to = to[n:]
		}
	}
	return sent, nil
}
