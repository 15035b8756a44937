package transport

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sondeproject/sonde/internal/netnstest"
)

// A device (such as /dev/null) is written as it is: its mode is never
// narrowed, nor is it refused for its owner.
func TestOpenPrivateFileDevice(t *testing.T) {
	netnstest.RequireRoot(t, "makes a device node (mknod)")
	dev := filepath.Join(t.TempDir(), "null")
	if err := unix.Mknod(dev, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dev, 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dev, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	f, was, err := OpenPrivateFile(dev)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if fi, err := os.Stat(dev); err != nil || fi.Mode().Perm() != 0o666 || was != 0 {
		t.Errorf("device mode after OpenPrivateFile: %v (was %04o), %v; want 0666 untouched", fi.Mode(), was, err)
	}
}
