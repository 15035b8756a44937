package modes

import (
	"math"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Round-trip times, summed up in constant memory however long a ping
// runs: the count, minimum, maximum, mean and standard deviation exactly
// (running sums), the percentiles and the histogram from an HdrHistogram.

// The HdrHistogram's precision: times from 1 ns to an hour (a longer one
// counts as an hour) to 3 significant digits, so a percentile or a bucket
// edge is within 0.1% of the time measured. It takes about 270 KiB.
const (
	rttLowest  = int64(time.Nanosecond)
	rttHighest = int64(time.Hour)
	rttDigits  = 3
)

// maxRTTBuckets is how many bars the histogram of the summary has at most.
const maxRTTBuckets = 8

type rttStats struct {
	n        int64
	min, max time.Duration
	mean, m2 float64 // Welford's running mean and sum of squared deviations, in ns
	hist     *hdrhistogram.Histogram
}

func newRTTStats() *rttStats {
	return &rttStats{hist: hdrhistogram.New(rttLowest, rttHighest, rttDigits)}
}

func (r *rttStats) record(d time.Duration) {
	r.n++
	if r.n == 1 || d < r.min {
		r.min = d
	}
	r.max = max(r.max, d)
	delta := float64(d) - r.mean
	r.mean += delta / float64(r.n)
	r.m2 += delta * (float64(d) - r.mean)
	r.hist.RecordValue(min(max(int64(d), rttLowest), rttHighest))
}

// avg is the mean; stddev the population standard deviation, which
// ping(8) calls mdev.
func (r *rttStats) avg() time.Duration { return time.Duration(math.Round(r.mean)) }
func (r *rttStats) stddev() time.Duration {
	return time.Duration(math.Round(math.Sqrt(r.m2 / float64(r.n))))
}

// percentile is the nearest-rank percentile, to the histogram's
// precision: the time that at least p% of the probes did not exceed. It
// never lies outside the times measured.
func (r *rttStats) percentile(p float64) time.Duration {
	return min(max(time.Duration(r.hist.ValueAtPercentile(p)), r.min), r.max)
}

// rttBucket is one bar of the histogram: the times from From up to To
// (To included in the last bar only), and how many probes took them.
type rttBucket struct {
	From, To time.Duration
	Count    int64
}

// buckets splits the times measured, min to max, into a few bars, each
// as wide as the one before times a constant factor (so that a long tail
// does not squeeze the common times into one bar), with edges rounded to
// the microsecond, and never narrower than a microsecond. Each count is
// the histogram's, to its precision.
func (r *rttStats) buckets() []rttBucket {
	if r.n == 0 {
		return nil
	}
	lo, hi := r.min.Round(time.Microsecond), r.max.Round(time.Microsecond)
	if hi <= lo { // one time, or times within a microsecond of each other
		return []rttBucket{{From: r.min, To: r.max, Count: r.n}}
	}
	n := min(maxRTTBuckets, int(math.Ceil(math.Sqrt(float64(r.n)))), int((hi-lo)/time.Microsecond))
	base := max(lo, time.Microsecond)
	ratio := float64(hi) / float64(base)
	edges := make([]time.Duration, n+1)
	edges[0] = lo
	for i := 1; i < n; i++ {
		e := time.Duration(float64(base) * math.Pow(ratio, float64(i)/float64(n))).Round(time.Microsecond)
		edges[i] = max(e, edges[i-1]+time.Microsecond)
	}
	edges[n] = max(hi, edges[n-1]+time.Microsecond)
	out := make([]rttBucket, n)
	for i := range out {
		out[i] = rttBucket{From: edges[i], To: edges[i+1]}
	}
	for _, bar := range r.hist.Distribution() {
		if bar.Count == 0 {
			continue
		}
		v := time.Duration(bar.From + (bar.To-bar.From)/2)
		i := 0
		for i < n-1 && v >= edges[i+1] {
			i++
		}
		out[i].Count += bar.Count
	}
	return out
}
