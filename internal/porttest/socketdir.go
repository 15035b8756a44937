package porttest

import (
	"os"
	"testing"
)

// SocketDir returns a directory for Unix socket files, removed when the
// test ends. A socket's path is limited to about 100 bytes, and
// t.TempDir's can be longer, so this one sits directly in the system's
// temporary directory.
func SocketDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "sd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}
