//go:build !linux

package netchain

import "errors"

func (c *Chain) warmUp() error { return errors.New("network namespaces exist only on Linux") }

// Do cannot enter a network namespace on this system.
func (c *Chain) Do(string, func() error) error {
	return errors.New("network namespaces exist only on Linux")
}
