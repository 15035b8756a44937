package modes

import (
	"fmt"
	"math"
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
	Type  string   `json:"type"` // "probe"
	Seq   int      `json:"seq"`
	OK    bool     `json:"ok"`
	RTTms *float64 `json:"rtt_ms"`
	Error *string  `json:"error"`
}

// pingSummaryJSON ends ping --json with the statistics of the text summary.
type pingSummaryJSON struct {
	Type        string   `json:"type"` // "summary"
	Host        string   `json:"host"`
	Addr        *string  `json:"addr"` // null when the name did not resolve
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
	// Histogram is the text summary's, bucket by bucket; null when no
	// probe succeeded.
	Histogram []pingBucketJSON `json:"histogram"`
	// Error says why the ping failed (exit status not 0), else null.
	Error *string `json:"error"`
}

type pingStats struct {
	sent, ok, dup, reordered, late int
	rtt                            *rttStats
}

// pingBucketJSON is one bar of the histogram in the summary of --json.
type pingBucketJSON struct {
	FromMs float64 `json:"from_ms"`
	ToMs   float64 `json:"to_ms"`
	Count  int64   `json:"count"`
}

// summary prints the statistics: ping(8)'s, plus percentiles and a
// histogram; failed says why the ping failed ("" when it did not), for
// --json.
func (s *pingSession) summary(failed string) error {
	o, st := s.o, &s.stats
	loss := 0.0
	if st.sent > 0 {
		loss = float64(st.sent-st.ok) / float64(st.sent) * 100
	}
	elapsed := s.end.Sub(s.start)
	var mn, avg, mx, sd, p50, p90, p99 time.Duration
	var buckets []rttBucket
	if st.ok > 0 {
		r := st.rtt
		mn, avg, mx, sd = r.min, r.avg(), r.max, r.stddev()
		p50, p90, p99 = r.percentile(50), r.percentile(90), r.percentile(99)
		buckets = r.buckets()
	}
	if o.JSON {
		sum := pingSummaryJSON{Type: "summary", Host: o.Target.Host, Port: o.Target.Port, Mode: o.Mode.String(),
			Sent: st.sent, OK: st.ok, LossPct: math.Round(loss*1000) / 1000, Duplicates: st.dup, Reordered: st.reordered,
			Late: st.late, ElapsedMs: ms(elapsed), Interrupted: s.interrupted || failed == "interrupted"}
		if s.target.IsValid() {
			addr := s.target.Addr().String()
			sum.Addr = &addr
		}
		if failed != "" {
			sum.Error = &failed
		}
		if st.ok > 0 {
			sum.MinMs, sum.AvgMs, sum.MaxMs, sum.StddevMs = msPtr(mn), msPtr(avg), msPtr(mx), msPtr(sd)
			sum.P50Ms, sum.P90Ms, sum.P99Ms = msPtr(p50), msPtr(p90), msPtr(p99)
			for _, b := range buckets {
				sum.Histogram = append(sum.Histogram, pingBucketJSON{FromMs: ms(b.From), ToMs: ms(b.To), Count: b.Count})
			}
		}
		return writeJSONLine(o.Stdout, sum)
	}
	lines := []string{fmt.Sprintf("--- %s port %d ping statistics ---", o.Target.Host, o.Target.Port)}
	line := fmt.Sprintf("%s sent, %d ok, %s loss", plural(int64(st.sent), "probe"), st.ok, formatPct(loss))
	switch o.Mode {
	case PingUDP:
		line += fmt.Sprintf(", %s, %d reordered, %d late", plural(int64(st.dup), "duplicate"), st.reordered, st.late)
	case PingEcho:
		line += fmt.Sprintf(", %d late", st.late)
	}
	lines = append(lines, fmt.Sprintf("%s, time %s", line, roundDuration(elapsed)))
	if st.ok > 0 {
		f := func(ds ...time.Duration) string {
			parts := make([]string, len(ds))
			for i, d := range ds {
				parts[i] = msString(d)
			}
			return strings.Join(parts, "/")
		}
		lines = append(lines, "rtt min/avg/max/stddev = "+f(mn, avg, mx, sd)+" ms", "rtt p50/p90/p99 = "+f(p50, p90, p99)+" ms")
		lines = append(lines, histogramLines(buckets)...)
	}
	return writeLine(o.Stdout, "%s", strings.Join(lines, "\n"))
}

// histogramBar is the width of the longest bar of the histogram.
const histogramBar = 40

// histogramLines draws the histogram of the text summary: a heading,
// then a line per bucket with its range, count and a bar of '#' as long
// as the count is large (at least one for a count that is not 0).
func histogramLines(buckets []rttBucket) []string {
	var top int64
	fromW, toW, countW := 0, 0, 0
	for _, b := range buckets {
		top = max(top, b.Count)
		fromW, toW = max(fromW, len(msString(b.From))), max(toW, len(msString(b.To)))
		countW = max(countW, len(strconv.FormatInt(b.Count, 10)))
	}
	lines := []string{"rtt histogram:"}
	for _, b := range buckets {
		bar := 0
		if b.Count > 0 {
			bar = max(1, int(math.Round(float64(b.Count)*histogramBar/float64(top))))
		}
		lines = append(lines, strings.TrimRight(fmt.Sprintf("  %*s - %*s ms  %*d  %s",
			fromW, msString(b.From), toW, msString(b.To), countW, b.Count, strings.Repeat("#", bar)), " "))
	}
	return lines
}

// msString is a time in milliseconds to the microsecond, as ping(8)
// prints times: "0.123".
func msString(d time.Duration) string { return strconv.FormatFloat(ms(d), 'f', 3, 64) }
