//go:build !unix

package modes

func isTooManyFiles(err error) bool { return false }
