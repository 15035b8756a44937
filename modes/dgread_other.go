//go:build !unix

package modes

// msgTrunc is the recvmsg flag of a datagram cut to fit the buffer
// (MSG_TRUNC, as Winsock numbers it).
const msgTrunc = 0x0100
