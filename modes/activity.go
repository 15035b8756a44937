package modes

// The idle rule of every engine: -w (connect, listen, listen -k) and
// --idle-timeout (echo, relay) end a session, a client or a relayed
// connection through which nothing has moved, either way, for their
// duration. Engines record activity on an activity clock and ask it, and
// only it, whether that duration has passed.

import (
	"sync/atomic"
	"time"
)

// activity is when a session last moved a byte (a datagram) either way.
// Its zero value is ready once touched; touch and the questions are safe
// from any goroutine.
type activity struct {
	now  func() time.Time // nil for time.Now; tests set a fake clock
	last atomic.Int64     // UnixNano of the last activity
}

func (a *activity) clock() time.Time {
	if a.now != nil {
		return a.now()
	}
	return time.Now()
}

// touch records activity now.
func (a *activity) touch() { a.last.Store(a.clock().UnixNano()) }

// lastActive is when activity was last recorded.
func (a *activity) lastActive() time.Time { return time.Unix(0, a.last.Load()) }

// idleFor is how long nothing has moved.
func (a *activity) idleFor() time.Duration { return a.clock().Sub(a.lastActive()) }

// idle tells whether nothing has moved for d, and if not, how long it may
// stay so before it has. A d of 0 or less is no limit: never idle.
func (a *activity) idle(d time.Duration) (left time.Duration, idle bool) {
	if d <= 0 {
		return 0, false
	}
	left = d - a.idleFor()
	return left, left <= 0
}

// deadline is the read deadline of an engine that blocks in Read (listen
// -k, echo, relay): a read that times out has waited until the session
// may be idle, and idle says whether it is. Zero, no deadline, for a d of
// 0 or less.
func (a *activity) deadline(d time.Duration) time.Time {
	if d <= 0 {
		return time.Time{}
	}
	return a.lastActive().Add(d)
}

// idleTimer is the same rule for an engine that waits in a select
// (stream, datagram): C fires when the session may be idle, and expired
// says whether it is. C is nil, never ready, for a d of 0 or less.
type idleTimer struct {
	C <-chan time.Time
	a *activity
	d time.Duration
	t *time.Timer
}

func (a *activity) idleTimer(d time.Duration) *idleTimer {
	it := &idleTimer{a: a, d: d}
	if d > 0 {
		left, _ := a.idle(d)
		it.t = time.NewTimer(max(left, 0))
		it.C = it.t.C
	}
	return it
}

// expired is asked when C has fired: true when nothing has moved for the
// whole duration; otherwise the timer is set for the time still left.
func (it *idleTimer) expired() bool {
	left, idle := it.a.idle(it.d)
	if !idle {
		it.t.Reset(left)
	}
	return idle
}

// rearm sets the timer for the whole duration again, for a fire that the
// engine ignores (a listener that has heard from nobody yet).
func (it *idleTimer) rearm() { it.t.Reset(it.d) }

func (it *idleTimer) stop() {
	if it.t != nil {
		it.t.Stop()
	}
}
