package modes

import (
	"net"
)

// datagramBuffer is the size of the buffer datagrams are read into: any
// UDP datagram fits in 64 KiB; a Unix datagram may be as large as the
// sender's send buffer, which is 208 KiB at most by default on Linux
// (net.core.wmem_max), so 256 KiB holds those.
func datagramBuffer(network string) int {
	if network == "unixgram" {
		return 256 << 10
	}
	return 64 << 10
}

// datagramReader reads whole datagrams from a socket, and tells when the
// kernel had to cut one to fit the buffer, which would otherwise lose its
// end without a word.
type datagramReader interface {
	ReadFrom(p []byte) (int, net.Addr, error)
}

// readDatagram reads one datagram into buf. truncated is set when the
// datagram was larger than buf and only its first len(buf) bytes came.
func readDatagram(c datagramReader, buf []byte) (n int, from net.Addr, truncated bool, err error) {
	var flags int
	switch c := c.(type) {
	case interface {
		ReadMsgUDP(b, oob []byte) (n, oobn, flags int, addr *net.UDPAddr, err error)
	}:
		var addr *net.UDPAddr
		n, _, flags, addr, err = c.ReadMsgUDP(buf, nil)
		from = addrOrNil(addr)
	case interface {
		ReadMsgUnix(b, oob []byte) (n, oobn, flags int, addr *net.UnixAddr, err error)
	}:
		var addr *net.UnixAddr
		n, _, flags, addr, err = c.ReadMsgUnix(buf, nil)
		from = addrOrNil(addr)
	default:
		n, from, err = c.ReadFrom(buf)
	}
	return n, from, flags&msgTrunc != 0, err
}

// addrOrNil is addr as a net.Addr: nil for a nil pointer, which as a
// net.Addr would not be nil.
func addrOrNil[T any, P interface {
	*T
	net.Addr
}](addr P) net.Addr {
	if addr == nil {
		return nil
	}
	return addr
}
