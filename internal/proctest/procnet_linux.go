package proctest

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// InetSocket is a row of /proc/net/tcp, tcp6, udp or udp6.
type InetSocket struct {
	LocalPort, RemotePort int
	State                 string // as the kernel writes it: 0A is LISTEN, 02 SYN_SENT
	Inode                 string
}

// InetSockets reads the sockets of the tables named ("tcp", "tcp6", "udp",
// "udp6"); a table that cannot be read has none.
func InetSockets(tables ...string) []InetSocket {
	var socks []InetSocket
	for _, table := range tables {
		data, err := os.ReadFile("/proc/net/" + table)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 10 {
				continue
			}
			local, err1 := hexPort(f[1])
			remote, err2 := hexPort(f[2])
			if err1 != nil || err2 != nil {
				continue
			}
			socks = append(socks, InetSocket{LocalPort: local, RemotePort: remote, State: f[3], Inode: f[9]})
		}
	}
	return socks
}

// hexPort reads the port of an ADDR:PORT of /proc/net (both in hex).
func hexPort(addr string) (int, error) {
	p, err := strconv.ParseUint(addr[strings.LastIndexByte(addr, ':')+1:], 16, 16)
	return int(p), err
}

// HoldsSocket tells whether process pid has open one of the sockets with
// these inodes.
func HoldsSocket(pid int, inodes []string) bool {
	if len(inodes) == 0 {
		return false
	}
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	for _, fd := range fds {
		l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if err != nil {
			continue
		}
		for _, inode := range inodes {
			if l == "socket:["+inode+"]" {
				return true
			}
		}
	}
	return false
}
