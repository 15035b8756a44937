//go:build !linux

package transport

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// maxSocketPath is the longest socket file path: sun_path holds 104 bytes
// with the terminating NUL on macOS and the BSDs (108 on Windows, checked
// here by the stricter bound).
const maxSocketPath = 103

func checkAbstract(path string) error {
	if strings.HasPrefix(path, "@") {
		return badInput("use a file path such as /tmp/app.sock", "abstract Unix sockets (%s) exist only on Linux", path)
	}
	return nil
}

// dialUnixgram binds the client to a temporary socket file so that replies
// can reach it, and removes the file when the connection closes.
func dialUnixgram(path string, o DialOptions) (net.Conn, error) {
	local := filepath.Join(os.TempDir(), "sonde."+strconv.Itoa(os.Getpid())+"."+strconv.FormatInt(time.Now().UnixNano()%1e6, 10)+".sock")
	c, err := net.DialUnix("unixgram", &net.UnixAddr{Name: local, Net: "unixgram"}, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		os.Remove(local)
		return nil, &DialError{Network: o.Network, Target: path, Attempts: []Attempt{{Addr: path, Err: err}}}
	}
	return &unlinkOnClose{UnixConn: c, file: claimSocketFile(local)}, nil
}
