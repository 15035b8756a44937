package ui

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// Of each kind, one warning per interval; the next one printed counts
// those held back. Kinds do not hold each other back.
func TestThrottledWarnings(t *testing.T) {
	var b strings.Builder
	u := New(&b, 0)
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	th := &Throttle{Interval: 10 * time.Second, Now: func() time.Time { return clock }}
	var printed []bool
	for _, step := range []struct {
		after time.Duration
		kind  string
	}{
		{0, "refused"}, {time.Second, "refused"}, {time.Second, "refused"}, {0, "timed out"},
		{8 * time.Second, "refused"}, {time.Second, "refused"}, {10 * time.Second, "refused"},
	} {
		clock = clock.Add(step.after)
		printed = append(printed, u.ThrottledWarnf(th, step.kind, "cannot connect: %s", step.kind))
	}
	want := "sonde: warning: cannot connect: refused\n" +
		"sonde: warning: cannot connect: timed out\n" +
		"sonde: warning: cannot connect: refused (2 more like it since the last one shown)\n" +
		"sonde: warning: cannot connect: refused (1 more like it since the last one shown)\n"
	if b.String() != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", b.String(), want)
	}
	if wantPrinted := []bool{true, false, false, true, true, false, true}; !slices.Equal(printed, wantPrinted) {
		t.Errorf("printed %v, want %v", printed, wantPrinted)
	}
}

// The zero Throttle lets everything through.
func TestZeroThrottle(t *testing.T) {
	var th Throttle
	for range 3 {
		if ok, held := th.Let("x"); !ok || held != 0 {
			t.Fatalf("Let = %v, %d; want true, 0", ok, held)
		}
	}
}
