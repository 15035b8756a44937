package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestResolveStamp(t *testing.T) {
	vcs := func(rev, modified, when string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev},
			{Key: "vcs.time", Value: when}, {Key: "vcs.modified", Value: modified}}
	}
	tests := []struct {
		name    string
		stamped buildStamp
		bi      *debug.BuildInfo
		want    buildStamp
	}{
		{"release: -ldflags wins over build info",
			buildStamp{version: "1.2.3", commit: "abc1234", date: "2026-11-26T06:13:00Z"},
			&debug.BuildInfo{Main: debug.Module{Version: "v9.9.9"}, Settings: vcs("ffffffffffffffff", "true", "2020-01-01T00:00:00Z")},
			buildStamp{version: "1.2.3", commit: "abc1234", date: "2026-11-26"}},
		{"snapshot where GoReleaser could not read git: placeholders dropped, build info used",
			buildStamp{version: "0.0.1-next", commit: "none", date: "0001-01-01T00:00:00Z"},
			&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("9cd3984abcdef0123456789", "false", "2026-11-26T06:13:00Z")},
			buildStamp{version: "0.0.1-next", commit: "9cd3984", date: "2026-11-26"}},
		{"snapshot without git or build info",
			buildStamp{version: "0.0.1-next", commit: "none", date: "0001-01-01T00:00:00Z"},
			&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}},
			buildStamp{version: "0.0.1-next"}},
		{"go install …@v1.4.0: module version, no VCS",
			buildStamp{version: "dev"},
			&debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}},
			buildStamp{version: "1.4.0"}},
		{"go install …@latest on an untagged commit: the pseudo-version's revision",
			buildStamp{version: "dev"},
			&debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261126061300-9cd3984abcde"}},
			buildStamp{version: "0.0.0-20261126061300-9cd3984abcde", commit: "9cd3984"}},
		{"pseudo-version after a tag",
			buildStamp{version: "dev"},
			&debug.BuildInfo{Main: debug.Module{Version: "v1.2.4-0.20261126061300-9cd3984abcde+dirty"}},
			buildStamp{version: "1.2.4-0.20261126061300-9cd3984abcde+dirty", commit: "9cd3984"}},
		{"go build in a modified checkout",
			buildStamp{version: "dev"},
			&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("9cd3984abcdef0123456789", "true", "2026-11-26T06:13:00Z")},
			buildStamp{version: "dev", commit: "9cd3984-dirty", date: "2026-11-26"}},
		{"go build in a clean checkout",
			buildStamp{version: "dev"},
			&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("9cd3984abcdef0123456789", "false", "2026-11-26T06:13:00Z")},
			buildStamp{version: "dev", commit: "9cd3984", date: "2026-11-26"}},
		{"-buildvcs=false, no module version",
			buildStamp{version: "dev"},
			&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}},
			buildStamp{version: "dev"}},
		{"no build info at all",
			buildStamp{version: ""},
			nil,
			buildStamp{version: "dev"}},
		{"a tag that is not a pseudo-version has no revision",
			buildStamp{version: "dev"},
			&debug.BuildInfo{Main: debug.Module{Version: "v2.0.0-rc.1"}},
			buildStamp{version: "2.0.0-rc.1"}},
	}
	for _, tt := range tests {
		if got := resolveStamp(tt.stamped, tt.bi); got != tt.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.name, got, tt.want)
		}
	}
}

func TestFormatVersion(t *testing.T) {
	tests := []struct {
		s    buildStamp
		want string
	}{
		{buildStamp{version: "1.2.3", commit: "abc1234", date: "2026-11-26"}, "sonde 1.2.3 (commit abc1234, 2026-11-26, go1.26.8, linux/amd64)"},
		{buildStamp{version: "1.2.3", commit: "abc1234"}, "sonde 1.2.3 (commit abc1234, go1.26.8, linux/amd64)"},
		{buildStamp{version: "dev"}, "sonde dev (go1.26.8, linux/amd64)"},
	}
	for _, tt := range tests {
		if got := formatVersion(tt.s, "go1.26.8", "linux/amd64"); got != tt.want {
			t.Errorf("formatVersion(%+v) = %q, want %q", tt.s, got, tt.want)
		}
	}
}

// TestVersionFlag runs sonde --version: one line on stdout, exit 0; and
// -v still means verbose, not version.
func TestVersionFlag(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"--version"}, strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Fatalf("sonde --version: exit %d, stderr %q", code, stderr.String())
	}
	out := stdout.String()
	if !strings.HasPrefix(out, "sonde ") || strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") ||
		!strings.Contains(out, runtime.Version()+", "+runtime.GOOS+"/"+runtime.GOARCH+")") {
		t.Errorf("sonde --version printed %q, want one line like sonde 1.2.3 (commit abc1234, %s, %s/%s)", out, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	}
	if stderr.Len() > 0 {
		t.Errorf("sonde --version wrote to stderr: %q", stderr.String())
	}
	stdout.Reset()
	stderr.Reset()
	if code := run([]string{"-v"}, strings.NewReader(""), &stdout, &stderr); code != exitUsage || strings.Contains(stdout.String(), "go1") {
		t.Errorf("sonde -v: exit %d, stdout %q; want a usage error (no HOST PORT), not the version", code, stdout.String())
	}
}

// TestVersionStamped builds sonde with the -X flags of .goreleaser.yaml and
// checks that the names reach --version. (Without -trimpath and the build
// tag of a release, so the build reuses the test build's cache.)
func TestVersionStamped(t *testing.T) {
	if testing.Short() {
		t.Skip("builds sonde")
	}
	bin := filepath.Join(t.TempDir(), "sonde")
	build := exec.Command("go", "build", "-o", bin,
		"-ldflags", "-s -w -X main.version=1.2.3 -X main.commit=abc1234 -X main.date=2026-11-26T06:13:00Z", ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatalf("sonde --version: %v", err)
	}
	want := "sonde 1.2.3 (commit abc1234, 2026-11-26, " + runtime.Version() + ", " + runtime.GOOS + "/" + runtime.GOARCH + ")\n"
	if string(out) != want {
		t.Errorf("stamped sonde --version = %q, want %q", out, want)
	}
}
