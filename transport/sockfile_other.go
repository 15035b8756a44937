//go:build !unix

package transport

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

// socketDir names a Unix socket file by its path where the OS offers no
// directory descriptors to sonde: the checks are the same, but a
// directory swapped between check and removal is not caught.
type socketDir struct{ path string }

// socketStat is what sonde checks of a socket file before removing it.
type socketStat struct{ fi fs.FileInfo }

func openSocketDir(path string) (*socketDir, error) { return &socketDir{path: path}, nil }

func (d *socketDir) stat() (socketStat, error) {
	fi, err := os.Lstat(d.path)
	return socketStat{fi: fi}, err
}

func (d *socketDir) unlinkIfSame(want socketStat) error {
	now, err := d.stat()
	if err != nil {
		return err
	}
	if !os.SameFile(now.fi, want.fi) {
		return errSwapped
	}
	return os.Remove(d.path)
}

func (d *socketDir) close() {}

func (s socketStat) isSocket() bool { return s.fi.Mode()&fs.ModeSocket != 0 }

func (s socketStat) owner() (uid int, known bool) { return 0, false }

func isConnRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) || isRefusedOS(err) }
