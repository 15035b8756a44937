package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/urfave/cli/v2"
)

// version is stamped at release time with -ldflags "-X main.version=…".
var version = "dev"

// commit and date are stamped next to version at release time:
// -ldflags "-X main.version=1.2.3 -X main.commit=abc1234 -X main.date=2026-11-26T06:13:00Z".
// A build without them (go install, go build) reads what the Go toolchain
// recorded instead: the module version and the VCS revision.
var (
	commit = ""
	date   = ""
)

// buildStamp is what a binary knows about the source it was built from.
type buildStamp struct {
	version string // without a leading "v"
	commit  string // short revision; "-dirty" when built from a modified tree
	date    string // commit date, YYYY-MM-DD
}

// printVersion is sonde --version: one line on stdout.
func printVersion(c *cli.Context) {
	fmt.Fprintln(c.App.Writer, versionLine())
}

// versionLine reads like "sonde 1.2.3 (commit abc1234, 2026-11-26, go1.26.8, linux/amd64)".
func versionLine() string {
	bi, _ := debug.ReadBuildInfo()
	s := resolveStamp(buildStamp{version: version, commit: commit, date: date}, bi)
	return formatVersion(s, runtime.Version(), runtime.GOOS+"/"+runtime.GOARCH)
}

// appVersion is the version alone, for the VERSION line of --help.
func appVersion() string {
	bi, _ := debug.ReadBuildInfo()
	return resolveStamp(buildStamp{version: version, commit: commit, date: date}, bi).version
}

func formatVersion(s buildStamp, goVersion, platform string) string {
	var parts []string
	if s.commit != "" {
		parts = append(parts, "commit "+s.commit)
	}
	if s.date != "" {
		parts = append(parts, s.date)
	}
	parts = append(parts, goVersion, platform)
	return fmt.Sprintf("sonde %s (%s)", s.version, strings.Join(parts, ", "))
}

// resolveStamp fills what -ldflags left unset from the build info: the
// module version of "go install …@v1.2.3", and the revision, time and
// dirtiness the toolchain records when it builds inside a git checkout.
// What was stamped always wins.
func resolveStamp(s buildStamp, bi *debug.BuildInfo) buildStamp {
	if s.version == "" {
		s.version = "dev"
	}
	// GoReleaser stamps "none" and the zero time when it could not read git
	// (a snapshot in a clone without a remote): no better than nothing.
	if s.commit == "none" || s.commit == "unknown" {
		s.commit = ""
	}
	if strings.HasPrefix(s.date, "0001-01-01") || s.date == "unknown" {
		s.date = ""
	}
	if bi != nil {
		if s.version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			s.version = bi.Main.Version
		}
		settings := make(map[string]string)
		for _, kv := range bi.Settings {
			settings[kv.Key] = kv.Value
		}
		if s.commit == "" {
			if rev := settings["vcs.revision"]; rev != "" {
				s.commit = shortRevision(rev)
				if settings["vcs.modified"] == "true" {
					s.commit += "-dirty"
				}
			} else {
				s.commit = pseudoVersionRevision(bi.Main.Version)
			}
		}
		if s.date == "" {
			s.date = settings["vcs.time"]
		}
	}
	s.version = strings.TrimPrefix(s.version, "v")
	if len(s.date) > len("2006-01-02") && s.date[len("2006-01-02")] == 'T' {
		s.date = s.date[:len("2006-01-02")] // RFC 3339: the day is enough
	}
	return s
}

// shortRevision shortens a git hash the way git rev-parse --short (and
// GoReleaser's ShortCommit) does.
func shortRevision(rev string) string {
	if len(rev) > 7 {
		return rev[:7]
	}
	return rev
}

// pseudoVersionRevision returns the revision inside a pseudo-version
// (v0.0.0-20261126061300-9cd3984abcde, what "go install …@latest" records
// for an untagged commit), or "" when v is not one.
func pseudoVersionRevision(v string) string {
	v, _, _ = strings.Cut(v, "+") // build metadata, e.g. "+dirty"
	i := strings.LastIndexByte(v, '-')
	if i < 0 {
		return ""
	}
	rev, rest := v[i+1:], v[:i]
	j := strings.LastIndexAny(rest, "-.")
	if j < 0 || len(rev) != 12 || !isDigits(rest[j+1:]) || len(rest)-j-1 != 14 {
		return ""
	}
	for _, c := range rev {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return ""
		}
	}
	return shortRevision(rev)
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
