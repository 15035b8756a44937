package transport

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// DropCounter returns a function that tells how many datagrams the
// kernel has dropped for the UDP socket c because they arrived while its
// receive buffer was full: data sonde never saw, which it reports rather
// than lose without a word. On Linux the count is the drops column of
// /proc/net/udp (or udp6) for the socket's inode. ok is false where the
// count cannot be known (another system, a Unix socket, or a socket
// already closed), so the function must be called before c is closed.
func DropCounter(c any) func() (dropped uint64, ok bool) {
	inode, ok := socketInode(c)
	if !ok {
		return func() (uint64, bool) { return 0, false }
	}
	return func() (uint64, bool) {
		for _, table := range []string{"/proc/self/net/udp", "/proc/self/net/udp6"} {
			if n, found := dropsOf(table, inode); found {
				return n, true
			}
		}
		return 0, false
	}
}

// socketInode returns the inode number that identifies c's socket in /proc.
func socketInode(c any) (string, bool) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return "", false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return "", false
	}
	var st syscall.Stat_t
	var serr error
	if err := raw.Control(func(fd uintptr) { serr = syscall.Fstat(int(fd), &st) }); err != nil || serr != nil {
		return "", false
	}
	return strconv.FormatUint(st.Ino, 10), true
}

// dropsOf reads the drops column of the line for inode in a /proc/net/udp
// table: sl, local and remote address, st, tx:rx queue, tr:tm, retrnsmt,
// uid, timeout, inode, ref, pointer, drops.
func dropsOf(table, inode string) (uint64, bool) {
	data, err := os.ReadFile(table)
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(data)) {
		f := strings.Fields(line)
		if len(f) < 13 || f[9] != inode {
			continue
		}
		n, err := strconv.ParseUint(f[12], 10, 64)
		return n, err == nil
	}
	return 0, false
}
