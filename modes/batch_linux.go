package modes

import (
	"io"
	"net"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
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

// msgChunks reads stdin where it is a datagram or seqpacket socket: one
// recvmmsg takes every message waiting, each into a buffer of its own, as
// that many reads would, one message each.
type msgChunks struct {
	raw  syscall.RawConn
	msgs []unix.Mmsghdr
	iovs []unix.Iovec
	ns   []int
}

// newChunkReader reads r for sendReadAhead: with recvmmsg where r is a
// socket that keeps message boundaries, else one read per call.
func newChunkReader(r io.Reader) chunkReader {
	f, ok := r.(*os.File)
	if !ok {
		return &plainChunks{r: r}
	}
	raw, err := f.SyscallConn()
	if err != nil {
		return &plainChunks{r: r}
	}
	typ := -1
	if raw.Control(func(fd uintptr) {
		typ, err = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TYPE)
	}) != nil || err != nil || typ != unix.SOCK_DGRAM && typ != unix.SOCK_SEQPACKET {
		return &plainChunks{r: r}
	}
	m := &msgChunks{raw: raw, msgs: make([]unix.Mmsghdr, batchSize), iovs: make([]unix.Iovec, batchSize), ns: make([]int, 0, batchSize)}
	for i := range m.msgs {
		m.msgs[i].Hdr.Iov = &m.iovs[i]
		m.msgs[i].Hdr.SetIovlen(1)
	}
	return m
}

func (m *msgChunks) most() int { return batchSize }

// read waits for one message, and takes the others waiting. A message of
// no bytes is the end of stdin, as a read of none is.
func (m *msgChunks) read(bufs [][]byte) ([]int, error) {
	bufs = bufs[:min(len(bufs), len(m.msgs))]
	for i, b := range bufs {
		m.iovs[i].Base = &b[0]
		m.iovs[i].SetLen(len(b))
		m.msgs[i].Len = 0
	}
	var got int
	var errno syscall.Errno
	err := m.raw.Read(func(fd uintptr) bool {
		r, _, e := syscall.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&m.msgs[0])), uintptr(len(bufs)), unix.MSG_WAITFORONE, 0, 0)
		got, errno = int(r), e
		return errno != syscall.EAGAIN // a non-blocking stdin waits in the poller
	})
	for i := range bufs {
		m.iovs[i].Base = nil // no buffer stays pinned by the headers
	}
	switch {
	case err != nil:
		return nil, err
	case errno == syscall.EINTR:
		return nil, nil
	case errno != 0:
		return nil, os.NewSyscallError("recvmmsg", errno)
	}
	m.ns = m.ns[:0]
	for _, msg := range m.msgs[:got] {
		if msg.Len == 0 {
			return m.ns, io.EOF
		}
		m.ns = append(m.ns, int(msg.Len))
	}
	return m.ns, nil
}
