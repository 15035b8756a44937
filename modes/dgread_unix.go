//go:build unix

package modes

import (
	"syscall"
)

// msgTrunc is the recvmsg flag of a datagram cut to fit the buffer.
const msgTrunc = syscall.MSG_TRUNC
