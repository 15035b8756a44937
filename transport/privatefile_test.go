//go:build unix

package transport

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestOpenPrivateFile(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name    string
		mode    fs.FileMode // 0: no file yet
		wantWas fs.FileMode
	}{
		{"new", 0, 0},
		{"private", 0o600, 0},
		{"readable by all", 0o644, 0o644},
		{"group writable", 0o620, 0o620},
	} {
		path := filepath.Join(dir, tc.name)
		if tc.mode != 0 {
			if err := os.WriteFile(path, []byte("old content"), tc.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tc.mode); err != nil { // past the umask
				t.Fatal(err)
			}
		}
		f, was, err := OpenPrivateFile(path)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		f.WriteString("dump")
		f.Close()
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if was != tc.wantWas || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: was %04o, now %04o; want was %04o, now 0600", tc.name, was, fi.Mode().Perm(), tc.wantWas)
		}
		if got, _ := os.ReadFile(path); string(got) != "dump" {
			t.Errorf("%s: content %q, want only what was written", tc.name, got)
		}
	}
}
