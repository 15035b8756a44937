package ui

import (
	"fmt"
	"sync"
	"time"
)

// Throttle keeps a warning that repeats from flooding standard error: of
// each kind, one is printed per Interval, the others are counted, and the
// next one printed says how many were held back. It is the one mechanism
// for repeated warnings (an accept loop out of descriptors, a relay whose
// target is down and fails every client). The zero value lets every
// warning through; it is safe for concurrent use.
type Throttle struct {
	Interval time.Duration
	Now      func() time.Time // time.Now when nil; a test's clock

	mu    sync.Mutex
	kinds map[string]*throttled
}

type throttled struct {
	last time.Time // the last one printed
	held int64     // held back since
}

// Let tells whether a message of kind may be printed now and, if so, how
// many of its kind were held back since the last one printed.
func (t *Throttle) Let(kind string) (ok bool, held int64) {
	now := time.Now
	if t.Now != nil {
		now = t.Now
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.kinds == nil {
		t.kinds = make(map[string]*throttled)
	}
	k := t.kinds[kind]
	if k == nil {
		k = &throttled{}
		t.kinds[kind] = k
	}
	at := now()
	if !k.last.IsZero() && at.Sub(k.last) < t.Interval {
		k.held++
		return false, 0
	}
	k.last, held, k.held = at, k.held, 0
	return true, held
}

// ThrottledWarnf prints a warning of kind through t: held back when one of its
// kind was printed less than t.Interval ago, else printed with the count
// of those held back since. It tells whether the warning was printed, so
// that the lines that go with it (details, a hint) follow it or not.
func (u *UI) ThrottledWarnf(t *Throttle, kind, format string, args ...any) bool {
	ok, held := t.Let(kind)
	if !ok {
		return false
	}
	msg := fmt.Sprintf(format, args...)
	if held == 1 {
		msg += " (1 more like it since the last one shown)"
	} else if held > 1 {
		msg += fmt.Sprintf(" (%d more like it since the last one shown)", held)
	}
	u.Warnf("%s", msg)
	return true
}
