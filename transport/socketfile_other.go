//go:build !unix

package transport

import "io/fs"

// fileOwner is not known off Unix.
func fileOwner(fs.FileInfo) string { return "" }
