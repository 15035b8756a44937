package netnstest

import (
	"os"
	"runtime"
	"testing"
)

// RequireRoot skips a test that needs root on Linux (another user's
// files, unshare) with a loud message, or fails it when the CI
// environment variable is set, as a missing namespace does.
func RequireRoot(t *testing.T, why string) {
	t.Helper()
	if runtime.GOOS == "linux" && os.Geteuid() == 0 {
		return
	}
	msg := "ROOT ON LINUX REQUIRED: " + t.Name() + " " + why + " (run the tests as root on Linux)"
	if os.Getenv("CI") != "" {
		t.Fatal(msg + " (CI is set: this test must run there)")
	}
	t.Skip(msg)
}
