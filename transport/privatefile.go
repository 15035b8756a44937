package transport

import (
	"errors"
	"io/fs"
)

// ErrSymlink: a file sonde writes (--hex-file) is a symbolic link, which
// it never follows: the link could point at any file of the user's.
var ErrSymlink = errors.New("it is a symbolic link")

// NotOwnerError: a file sonde writes belongs to another user.
type NotOwnerError struct{ UID int }

func (e *NotOwnerError) Error() string { return "it belongs to " + userName(e.UID) }

// privatePerm is the mode of a file sonde writes that may hold what a
// session carried.
const privatePerm fs.FileMode = 0o600

// widerThanPrivate tells whether mode lets anyone but the owner in, or
// has a special bit.
func widerThanPrivate(mode fs.FileMode) bool {
	return mode.Perm()&^privatePerm != 0 || mode&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) != 0
}
