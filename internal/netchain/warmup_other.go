//go:build !linux

package netchain

import "errors"

func (c *Chain) warmUp() error { return errors.New("network namespaces exist only on Linux") }
