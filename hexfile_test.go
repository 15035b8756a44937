//go:build unix

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sondeproject/sonde/internal/netnstest"
)

// A --hex-file that is a symbolic link or belongs to another user is a
// usage error (exit 2), and the file is left as it was.
func TestHexFileRefused(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	content := []byte("kept as it was\n")
	if err := os.WriteFile(target, content, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	check := func(path, wantMsg string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		code := run([]string{"--hex-file", path, "127.0.0.1", "1"}, strings.NewReader(""), &stdout, &stderr)
		if code != exitUsage || !strings.Contains(stderr.String(), wantMsg) {
			t.Errorf("--hex-file %s: exit %d, stderr %q; want exit %d and %q", path, code, stderr.String(), exitUsage, wantMsg)
		}
		if got, err := os.ReadFile(target); err != nil || !bytes.Equal(got, content) {
			t.Errorf("--hex-file %s: the file was changed: %q, %v", path, got, err)
		}
	}
	check(link, "cannot open --hex-file "+link+": it is a symbolic link\n")

	netnstest.RequireRoot(t, "gives a --hex-file to another user (chown)")
	if err := os.Chown(target, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	check(target, "cannot open --hex-file "+target+": it belongs to ")
	check(target, "(uid 65534)\n")
}
