//go:build !unix

package transport

// receiveBufferSize cannot read SO_RCVBUF back here.
func receiveBufferSize(c any) (int, bool) { return 0, false }
