package modes

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/sondeproject/sonde/ui"
)

// latePinger stands for a ping loop run late on a loaded machine: its
// send returns only once the probe's timeout has passed, with the reply
// (of round trip rtt) already waiting for the loop.
type latePinger struct {
	replies chan<- pingReply
	timeout time.Duration
	rtt     time.Duration
}

func (p *latePinger) send(seq int) *pingReply {
	time.Sleep(p.timeout + 20*time.Millisecond)
	p.replies <- pingReply{seq: seq, ok: true, rtt: p.rtt}
	return nil
}
func (p *latePinger) timed() bool { return true }
func (p *latePinger) close()      {}

// A reply is judged by its round trip against the timeout, not by when
// the loop gets to it: read in time it is ok, though the deadline has
// passed too by the time the loop looks (either may be taken first);
// read after the timeout it is late, though the loop had not yet failed
// the probe. Many sessions, so that a loop that picked at random would
// be caught.
func TestPingReplyJudgedByRoundTrip(t *testing.T) {
	const timeout = 10 * time.Millisecond
	for _, c := range []struct {
		rtt      time.Duration
		ok, late int
	}{
		{rtt: timeout / 2, ok: 1},
		{rtt: 2 * timeout, late: 1},
	} {
		for range 16 {
			var out lineHook
			replies := make(chan pingReply, 64)
			s := &pingSession{o: &PingOptions{Mode: PingUDP, Count: 1, Stdout: &out, UI: ui.New(&lineHook{}, 0)},
				p: &latePinger{replies: replies, timeout: timeout, rtt: c.rtt}, target: netip.MustParseAddrPort("127.0.0.1:7"),
				timeout: timeout, replies: replies, stats: pingStats{rtt: newRTTStats()}}
			s.u = s.o.UI
			s.run(context.Background(), time.Millisecond)
			if s.stats.sent != 1 || s.stats.ok != c.ok || s.stats.late != c.late {
				t.Fatalf("a reply of round trip %v to a probe with timeout %v, handled after the deadline: %d sent, %d ok, %d late; want 1 sent, %d ok, %d late\n%s",
					c.rtt, timeout, s.stats.sent, s.stats.ok, s.stats.late, c.ok, c.late, out.String())
			}
		}
	}
}
