package transport

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sondeproject/sonde/internal/netnstest"
)

// A socket path whose directory does not exist says so, to a client and to
// a listener alike, rather than "no such socket file".
func TestSocketPathMissingDirectory(t *testing.T) {
	dir := filepath.Join(filepath.Dir(socketPath(t)), "gone")
	path := filepath.Join(dir, "s.sock")

	_, err := Dial(context.Background(), Endpoint{Host: path}, DialOptions{Network: "unix"})
	x := explain(t, err)
	if want := "cannot connect to " + path + ": directory " + dir + " does not exist"; x.Msg != want {
		t.Errorf("dial: Msg = %q, want %q", x.Msg, want)
	}
	wantContains(t, "dial hint", x.Hint, "not the directory")

	for _, network := range []string{"unix", "unixgram"} {
		var err error
		if network == "unix" {
			_, err = Listen(context.Background(), Endpoint{Host: path}, ListenOptions{Network: network})
		} else {
			_, err = ListenPacket(context.Background(), Endpoint{Host: path}, ListenOptions{Network: network})
		}
		x := explain(t, err)
		if want := "cannot listen on " + path + ": directory " + dir + " does not exist"; x.Msg != want {
			t.Errorf("listen %s: Msg = %q, want %q", network, x.Msg, want)
		}
		wantContains(t, "listen hint", x.Hint, "mkdir -p "+dir)
	}
}

// Permission denied on a socket path talks about the file or directory
// that denies it, its owner and mode, never about firewalls.
func TestSocketPathPermissionDenied(t *testing.T) {
	if !netnstest.PrivateWithout(t, "dac_override", "dac_read_search") {
		return
	}
	path := socketPath(t)
	ln, err := Listen(context.Background(), Endpoint{Host: path}, ListenOptions{Network: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := os.Chmod(path, 0); err != nil {
		t.Fatal(err)
	}
	_, err = Dial(context.Background(), Endpoint{Host: path}, DialOptions{Network: "unix"})
	x := explain(t, err)
	if want := "cannot connect to " + path + ": permission denied by the socket file (owner root, group root, mode S---------)"; x.Msg != want {
		t.Errorf("dial: Msg = %q, want %q", x.Msg, want)
	}
	wantContains(t, "dial hint", x.Hint, "write permission on the socket file")

	locked := filepath.Join(filepath.Dir(path), "locked")
	if err := os.Mkdir(locked, 0o500); err != nil {
		t.Fatal(err)
	}
	_, err = Listen(context.Background(), Endpoint{Host: filepath.Join(locked, "s.sock")}, ListenOptions{Network: "unix"})
	x = explain(t, err)
	if want := "cannot listen on " + filepath.Join(locked, "s.sock") + ": permission denied: directory " + locked +
		" does not let this user create a file in it (owner root, group root, mode dr-x------)"; x.Msg != want {
		t.Errorf("listen: Msg = %q, want %q", x.Msg, want)
	}
	if strings.Contains(x.Msg+x.Hint, "firewall") {
		t.Errorf("listen: %q / %q blames a firewall", x.Msg, x.Hint)
	}
}

// A socket path longer than sun_path holds is refused as bad input, for a
// client and a listener, before the kernel says only "invalid argument".
func TestSocketPathTooLong(t *testing.T) {
	path := filepath.Join(filepath.Dir(socketPath(t)), strings.Repeat("s", maxSocketPath))
	_, derr := Dial(context.Background(), Endpoint{Host: path}, DialOptions{Network: "unix"})
	_, lerr := Listen(context.Background(), Endpoint{Host: path}, ListenOptions{Network: "unix"})
	for _, err := range []error{derr, lerr} {
		x := explain(t, err)
		if !x.Usage || !strings.HasPrefix(x.Msg, "socket path of "+strconv.Itoa(len(path))+" bytes: a Unix socket address holds at most ") {
			t.Errorf("%q: %+v, want a usage error giving the length", path, x)
		}
	}
}
