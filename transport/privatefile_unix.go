//go:build unix

package transport

import (
	"io/fs"
	"os"
	"syscall"
)

// OpenPrivateFile opens path for writing a dump (--hex-file): created
// 0600, never through a symbolic link, and refused if another user owns
// it. An existing regular file is made 0600 on the open descriptor before
// it is emptied, so nothing written to it was ever readable by others;
// was is its old mode when it had to be narrowed, else 0. Other kinds of
// file (a FIFO, /dev/null) are written as they are.
func OpenPrivateFile(path string) (f *os.File, was fs.FileMode, err error) {
	f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|syscall.O_NOFOLLOW, privatePerm)
	if err != nil {
		// ELOOP on Linux and macOS, EMLINK on FreeBSD: ask the file.
		if fi, lerr := os.Lstat(path); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return nil, 0, &fs.PathError{Op: "open", Path: path, Err: ErrSymlink}
		}
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if !fi.Mode().IsRegular() {
		return f, 0, nil
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		f.Close()
		return nil, 0, &fs.PathError{Op: "open", Path: path, Err: &NotOwnerError{UID: int(st.Uid)}}
	}
	if widerThanPrivate(fi.Mode()) {
		if err := f.Chmod(privatePerm); err != nil {
			f.Close()
			return nil, 0, err
		}
		was = fi.Mode()
	}
	if err := f.Truncate(0); err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, was, nil
}
