//go:build !unix

package transport

import (
	"io/fs"
	"os"
)

// OpenPrivateFile opens path for writing a dump (--hex-file). Without
// O_NOFOLLOW and Unix owners, it refuses a symbolic link found before
// opening, and otherwise creates or empties the file.
func OpenPrivateFile(path string) (f *os.File, was fs.FileMode, err error) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return nil, 0, &fs.PathError{Op: "open", Path: path, Err: ErrSymlink}
	}
	f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, privatePerm)
	return f, 0, err
}
