package modes

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// What ping sums up at its end, as text in the style of ping(8) with
// percentiles added, or as the last line of --json.

// pingProbeJSON is one line of ping --json: a probe's sequence number
// and either its round trip in milliseconds or why it failed (the other
// field is null).
type pingProbeJSON struct {
	Seq   int      `json:"seq"`
	OK    bool     `json:"ok"`
	RTTms *float64 `json:"rtt_ms"`
	Error *string  `json:"error"`
}

// pingSummaryJSON ends ping --json with the statistics of the text summary.
type pingSummaryJSON struct {
	Type        string   `json:"type"` // "summary"
	Host        string   `json:"host"`
	Addr        string   `json:"addr"`
	Port        int      `json:"port"`
	Mode        string   `json:"mode"` // "tcp", "udp" or "echo"
	Sent        int      `json:"sent"`
	OK          int      `json:"ok"`
	LossPct     float64  `json:"loss_pct"`
	MinMs       *float64 `json:"min_ms"`
	AvgMs       *float64 `json:"avg_ms"`
	MaxMs       *float64 `json:"max_ms"`
	StddevMs    *float64 `json:"stddev_ms"`
	P50Ms       *float64 `json:"p50_ms"`
	P90Ms       *float64 `json:"p90_ms"`
	P99Ms       *float64 `json:"p99_ms"`
	Duplicates  int      `json:"duplicates"`
	Reordered   int      `json:"reordered"`
	Late        int      `json:"late"`
	ElapsedMs   float64  `json:"elapsed_ms"`
	Interrupted bool     `json:"interrupted"`
}

type pingStats struct {
	sent, ok, dup, reordered, late int
	rtts                           []time.Duration
}

// summary prints the statistics: ping(8)'s, plus percentiles.
func (s *pingSession) summary(addr netip.Addr) error {
	o, st := s.o, &s.stats
	loss := 0.0
	if st.sent > 0 {
		loss = float64(st.sent-st.ok) / float64(st.sent) * 100
	}
	elapsed := s.end.Sub(s.start)
	var mn, avg, mx, sd, p50, p90, p99 time.Duration
	if st.ok > 0 {
		mn, avg, mx, sd = rttStats(st.rtts)
		p50, p90, p99 = percentile(st.rtts, 50), percentile(st.rtts, 90), percentile(st.rtts, 99)
	}
	if o.JSON {
		sum := pingSummaryJSON{Type: "summary", Host: o.Target.Host, Addr: addr.String(), Port: o.Target.Port, Mode: o.Mode.String(),
			Sent: st.sent, OK: st.ok, LossPct: math.Round(loss*1000) / 1000, Duplicates: st.dup, Reordered: st.reordered,
			Late: st.late, ElapsedMs: ms(elapsed), Interrupted: s.interrupted}
		if st.ok > 0 {
			sum.MinMs, sum.AvgMs, sum.MaxMs, sum.StddevMs = msPtr(mn), msPtr(avg), msPtr(mx), msPtr(sd)
			sum.P50Ms, sum.P90Ms, sum.P99Ms = msPtr(p50), msPtr(p90), msPtr(p99)
		}
		return writeJSONLine(o.Stdout, sum)
	}
	u := s.u
	u.Infof("--- %s port %d ping statistics ---", o.Target.Host, o.Target.Port)
	line := fmt.Sprintf("%s sent, %d ok, %s loss", plural(int64(st.sent), "probe"), st.ok, formatPct(loss))
	switch o.Mode {
	case PingUDP:
		line += fmt.Sprintf(", %s, %d reordered, %d late", plural(int64(st.dup), "duplicate"), st.reordered, st.late)
	case PingEcho:
		line += fmt.Sprintf(", %d late", st.late)
	}
	u.Infof("%s, time %s", line, roundDuration(elapsed))
	if st.ok > 0 {
		f := func(ds ...time.Duration) string {
			parts := make([]string, len(ds))
			for i, d := range ds {
				parts[i] = strconv.FormatFloat(ms(d), 'f', 3, 64)
			}
			return strings.Join(parts, "/")
		}
		u.Infof("rtt min/avg/max/stddev = %s ms", f(mn, avg, mx, sd))
		u.Infof("rtt p50/p90/p99 = %s ms", f(p50, p90, p99))
	}
	return nil
}

// rttStats returns the minimum, mean, maximum and (population) standard
// deviation, which ping(8) calls mdev.
func rttStats(rtts []time.Duration) (mn, avg, mx, sd time.Duration) {
	mn, mx = slices.Min(rtts), slices.Max(rtts)
	var sum float64
	for _, d := range rtts {
		sum += float64(d)
	}
	mean := sum / float64(len(rtts))
	var sq float64
	for _, d := range rtts {
		sq += (float64(d) - mean) * (float64(d) - mean)
	}
	return mn, time.Duration(math.Round(mean)), mx, time.Duration(math.Round(math.Sqrt(sq / float64(len(rtts)))))
}

// percentile is the nearest-rank percentile: the smallest time that at
// least p% of the probes did not exceed. It is always a measured time.
func percentile(rtts []time.Duration, p float64) time.Duration {
	sorted := slices.Sorted(slices.Values(rtts))
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}
