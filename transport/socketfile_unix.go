//go:build unix

package transport

import (
	"fmt"
	"io/fs"
	"os/user"
	"strconv"
	"syscall"
)

// fileOwner names a file's owner and group ("owner root, group docker").
func fileOwner(fi fs.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	uid, gid := strconv.FormatUint(uint64(st.Uid), 10), strconv.FormatUint(uint64(st.Gid), 10)
	owner, group := uid, gid
	if u, err := user.LookupId(uid); err == nil {
		owner = u.Username
	}
	if g, err := user.LookupGroupId(gid); err == nil {
		group = g.Name
	}
	return fmt.Sprintf("owner %s, group %s", owner, group)
}
