//go:build unix

package transport

import (
	"errors"
	"io/fs"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// socketDir is the directory of a Unix socket path, held open as a
// descriptor: every look at the socket file and its removal go through
// it, so swapping a directory on the path between a check and the
// unlink cannot point sonde at another file.
type socketDir struct {
	fd   int
	name string // the socket file's name in the directory
}

// socketStat is what sonde checks of a socket file before removing it.
type socketStat struct {
	mode     uint32
	dev, ino uint64
	uid      int
}

// openSocketDir opens the directory of path. Symbolic links in the
// directory part are resolved first (as bind resolves them), and the
// directory itself is then opened without following one, so that what
// was checked is what is opened.
func openSocketDir(path string) (*socketDir, error) {
	dir, name := filepath.Dir(path), filepath.Base(path)
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, err
	}
	fd, err := unix.Open(real, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: real, Err: err}
	}
	return &socketDir{fd: fd, name: name}, nil
}

func (d *socketDir) stat() (socketStat, error) {
	var st unix.Stat_t
	if err := unix.Fstatat(d.fd, d.name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return socketStat{}, err
	}
	return socketStat{mode: uint32(st.Mode), dev: uint64(st.Dev), ino: st.Ino, uid: int(st.Uid)}, nil
}

// unlinkIfSame removes the socket file if it is still the file want
// describes (same device, inode and owner), and reports errSwapped if not.
func (d *socketDir) unlinkIfSame(want socketStat) error {
	now, err := d.stat()
	if err != nil {
		return err
	}
	if now != want {
		return errSwapped
	}
	return unix.Unlinkat(d.fd, d.name, 0)
}

func (d *socketDir) close() { unix.Close(d.fd) }

func (s socketStat) isSocket() bool { return s.mode&unix.S_IFMT == unix.S_IFSOCK }

// owner is the file's owner; known is false where the OS does not say.
func (s socketStat) owner() (uid int, known bool) { return s.uid, true }

// isConnRefused tells a connect refused by the kernel: a socket file
// with nothing bound to it.
func isConnRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }
