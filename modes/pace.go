package modes

// Pauses that a signal must be able to cut short: -i, --delay, the
// backoff of wait.

// Pauses that a signal must be able to cut short: -i, --delay, the
// backoff of wait.

import (
	"context"
	"time"
)

// sleepCtx waits for d, or until ctx ends; it tells whether the whole
// pause passed.
// sleepCtx waits for d, or until ctx ends; it tells whether the whole
// pause passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
