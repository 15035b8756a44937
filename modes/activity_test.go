package modes

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a clock that moves only when told, safe from any goroutine.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// The idle rule of -w and --idle-timeout: idle once nothing has moved for
// the whole duration (not a moment before), never with no duration.
func TestActivityIdle(t *testing.T) {
	for _, tc := range []struct {
		name     string
		timeout  time.Duration
		quiet    time.Duration // since the last touch
		wantIdle bool
		wantLeft time.Duration
	}{
		{"no timeout, long quiet", 0, time.Hour, false, 0},
		{"negative timeout", -time.Second, time.Hour, false, 0},
		{"just touched", 5 * time.Second, 0, false, 5 * time.Second},
		{"partly quiet", 5 * time.Second, 2 * time.Second, false, 3 * time.Second},
		{"a nanosecond short", 5 * time.Second, 5*time.Second - 1, false, 1},
		{"exactly the timeout", 5 * time.Second, 5 * time.Second, true, 0},
		{"past the timeout", 5 * time.Second, 7 * time.Second, true, -2 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			a := &activity{now: clock.now}
			a.touch()
			clock.advance(tc.quiet)
			if got := a.idleFor(); got != tc.quiet {
				t.Errorf("idleFor() = %v, want %v", got, tc.quiet)
			}
			left, idle := a.idle(tc.timeout)
			if idle != tc.wantIdle || left != tc.wantLeft {
				t.Errorf("idle(%v) = %v, %v; want %v, %v", tc.timeout, left, idle, tc.wantLeft, tc.wantIdle)
			}
		})
	}
}

// A touch starts the quiet time again, and a read deadline is the moment
// the session would become idle.
func TestActivityTouchAndDeadline(t *testing.T) {
	clock := newFakeClock()
	a := &activity{now: clock.now}
	a.touch()
	start := clock.now()
	clock.advance(4 * time.Second)
	a.touch()
	clock.advance(4 * time.Second)
	if _, idle := a.idle(5 * time.Second); idle {
		t.Error("idle 4s after a touch, with a 5s timeout")
	}
	if got, want := a.lastActive(), start.Add(4*time.Second); !got.Equal(want) {
		t.Errorf("lastActive() = %v, want %v", got, want)
	}
	if got, want := a.deadline(5*time.Second), start.Add(9*time.Second); !got.Equal(want) {
		t.Errorf("deadline(5s) = %v, want %v", got, want)
	}
	if got := a.deadline(0); !got.IsZero() {
		t.Errorf("deadline(0) = %v, want none", got)
	}
}

// The timer of select-loop engines asks the same rule when it fires: not
// yet idle (something moved since it was set) sets it again for the time
// left; idle ends the session; no duration never fires.
func TestIdleTimer(t *testing.T) {
	clock := newFakeClock()
	a := &activity{now: clock.now}
	a.touch()

	if it := a.idleTimer(0); it.C != nil {
		t.Error("idleTimer(0) has a channel: it could fire")
	}

	it := a.idleTimer(time.Hour)
	defer it.stop()
	clock.advance(30 * time.Minute)
	a.touch()
	clock.advance(59 * time.Minute)
	if it.expired() {
		t.Fatal("expired 59m after the last touch, with a 1h timeout")
	}
	if !it.t.Stop() {
		t.Error("not idle yet, but the timer was not set again")
	}
	clock.advance(time.Minute)
	if !it.expired() {
		t.Error("not expired 1h after the last touch")
	}
}

// Engines touch from their copy goroutines while another asks: the clock
// must be safe for that (run with -race).
func TestActivityConcurrent(t *testing.T) {
	var a activity
	a.touch()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				a.touch()
			}
		}()
	}
	for range 1000 {
		if _, idle := a.idle(time.Hour); idle {
			t.Fatal("idle within an hour of a touch")
		}
	}
	wg.Wait()
}
