//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package modes

import (
	"errors"
	"os"
	"time"
)

// inForeground: no job control here, so sonde always reads its terminal.
func inForeground(*os.File) (fg, controlling bool) { return true, false }

func waitReadable(*os.File, time.Duration) (bool, error) {
	return false, errors.ErrUnsupported
}
