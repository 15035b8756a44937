package transport

// What the file system has to say about a Unix socket path: a directory
// that does not exist, or permissions that keep sonde out. Neither is the
// network's doing, and no message about them may blame a firewall.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// checkSocketPath refuses a path no Unix socket address can hold (the
// kernel answers only "invalid argument"), and an abstract name where
// there are none.
func checkSocketPath(path string) error {
	limit := maxSocketPath
	if strings.HasPrefix(path, "@") {
		limit++ // no terminating NUL
	}
	if len(path) > limit {
		return badInput("use a shorter path: a relative one, or one in a short directory such as /tmp",
			"socket path of %d bytes: a Unix socket address holds at most %d (sun_path)", len(path), limit)
	}
	return checkAbstract(path)
}

// socketFileReason words err when it is a missing directory or a denied
// permission on the way to the socket file at path; ok is false for any
// other error, and for abstract sockets, which have no file.
func socketFileReason(path string, err error, listening bool) (why, hint string, ok bool) {
	if strings.HasPrefix(path, "@") {
		return "", "", false
	}
	dir := filepath.Dir(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if _, serr := os.Stat(dir); !errors.Is(serr, fs.ErrNotExist) {
			return "", "", false
		}
		why = fmt.Sprintf("directory %s does not exist", dir)
		if listening {
			return why, fmt.Sprintf("create it first (mkdir -p %s), or choose another path", dir), true
		}
		return why, "check the path; a listener creates its socket file, but not the directory it goes in", true
	case errors.Is(err, fs.ErrPermission):
		if !listening {
			if fi, serr := os.Stat(path); serr == nil {
				return fmt.Sprintf("permission denied by the socket file (%s)", describeFile(fi)),
					"connecting needs write permission on the socket file: run as its owner or a member of its group, or have its mode changed", true
			}
		}
		blocking := dir
		for {
			fi, serr := os.Stat(blocking)
			if serr == nil {
				what := "cannot be searched"
				if listening && blocking == dir {
					what = "does not let this user create a file in it"
				}
				return fmt.Sprintf("permission denied: directory %s %s (%s)", blocking, what, describeFile(fi)),
					"run as a user its owner or group allows, or choose a path in a directory of your own", true
			}
			parent := filepath.Dir(blocking)
			if parent == blocking {
				return "", "", false
			}
			blocking = parent
		}
	}
	return "", "", false
}

// describeFile says who owns a file and its mode, as ls -l would.
func describeFile(fi fs.FileInfo) string {
	if owner := fileOwner(fi); owner != "" {
		return owner + ", mode " + fi.Mode().String()
	}
	return "mode " + fi.Mode().String()
}
