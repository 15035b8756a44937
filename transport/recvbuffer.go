package transport

// GrowReceiveBuffer asks the kernel for a receive buffer (SO_RCVBUF) of
// want bytes on the UDP socket c, so that a burst of datagrams waits in
// it instead of being dropped while sonde writes out the previous ones.
// The system caps the size (net.core.rmem_max on Linux, which also
// doubles what it grants to cover its bookkeeping); got is the size the
// kernel reports afterwards, and ok is false where it cannot be read back.
func GrowReceiveBuffer(c any, want int) (got int, ok bool) {
	s, isSock := c.(interface{ SetReadBuffer(int) error })
	if !isSock || s.SetReadBuffer(want) != nil {
		return 0, false
	}
	return receiveBufferSize(c)
}
