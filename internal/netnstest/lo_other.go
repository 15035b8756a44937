//go:build !linux

package netnstest

import "errors"

func loopbackUp() error { return errors.New("network namespaces exist only on Linux") }
