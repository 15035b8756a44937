package modes

import (
	"fmt"
	"sync/atomic"
	"time"
)

// startProgress reports bytes and rates each way (--progress) until the
// returned stop is called, which prints a final summary line. On a terminal
// one line is redrawn in place four times a second; elsewhere a line is
// printed every progressEvery.
func startProgress(o *Options, sent, received *atomic.Int64) (stop func()) {
	const progressEvery = 2 * time.Second
	tick := progressEvery
	if o.ProgressInPlace {
		tick = 250 * time.Millisecond
	}
	start := time.Now()
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(tick)
		defer t.Stop()
		var lastSent, lastRecv int64
		last, idle := start, false
		for {
			select {
			case <-done:
				return
			case <-t.C:
				// The time of the reading, not of the tick: a tick read
				// late would count the bytes of a longer span over a
				// shorter one.
				now := time.Now()
				s, r := sent.Load(), received.Load()
				line := fmt.Sprintf("sent %s (%s), received %s (%s)",
					humanBytes(s), humanRate(rate(s-lastSent, now.Sub(last))),
					humanBytes(r), humanRate(rate(r-lastRecv, now.Sub(last))))
				moved := s != lastSent || r != lastRecv
				lastSent, lastRecv, last = s, r, now
				switch {
				case !o.ProgressInPlace:
					o.UI.Infof("%s", line)
				case moved || !idle:
					// Drawn once more when the bytes stop (the rates fall
					// to 0), then left alone: a redraw would erase the
					// echo of what is being typed after it.
					o.UI.Status(line)
				}
				idle = !moved
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		o.UI.EndStatus()
		elapsed := time.Since(start)
		s, r := sent.Load(), received.Load()
		o.UI.Infof("sent %s, received %s in %s (average %s sent, %s received)",
			humanBytes(s), humanBytes(r), roundDuration(elapsed),
			humanRate(rate(s, elapsed)), humanRate(rate(r, elapsed)))
	}
}

// rate is n bytes over d, per second (0 over no time).
func rate(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

func humanBytes(n int64) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/1024)
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
}

func humanRate(bps float64) string {
	if bps < 0 {
		bps = 0
	}
	return humanBytes(int64(bps)) + "/s"
}
