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
		last := start
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				s, r := sent.Load(), received.Load()
				dt := now.Sub(last).Seconds()
				line := fmt.Sprintf("sent %s (%s), received %s (%s)",
					humanBytes(s), humanRate(float64(s-lastSent)/dt), humanBytes(r), humanRate(float64(r-lastRecv)/dt))
				lastSent, lastRecv, last = s, r, now
				if o.ProgressInPlace {
					o.UI.Status(line)
				} else {
					o.UI.Infof("%s", line)
				}
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		elapsed := time.Since(start)
		s, r := sent.Load(), received.Load()
		o.UI.Infof("sent %s, received %s in %s (average %s sent, %s received)",
			humanBytes(s), humanBytes(r), elapsed.Round(time.Millisecond),
			humanRate(float64(s)/elapsed.Seconds()), humanRate(float64(r)/elapsed.Seconds()))
	}
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
