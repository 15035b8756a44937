//go:build !linux

package transport

// DropCounter tells how many datagrams the kernel dropped for a UDP
// socket whose receive buffer was full; only Linux says, so here ok is
// always false.
func DropCounter(c any) func() (dropped uint64, ok bool) {
	return func() (uint64, bool) { return 0, false }
}
