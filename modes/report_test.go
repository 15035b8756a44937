package modes

import (
	"testing"
	"time"
)

// Times read as people write a measurement: three significant digits.
func TestRoundDuration(t *testing.T) {
	for _, tc := range []struct {
		in   time.Duration
		want string
	}{
		{747123456 * time.Nanosecond, "747ms"},
		{1234567890 * time.Nanosecond, "1.23s"},
		{1200 * time.Millisecond, "1.2s"},
		{41234 * time.Nanosecond, "41.2µs"},
		{41 * time.Microsecond, "41µs"},
		{999 * time.Nanosecond, "999ns"},
		{999600 * time.Microsecond, "1s"},
		{12345 * time.Millisecond, "12.3s"},
		{123456 * time.Millisecond, "2m3s"},
		{0, "0s"},
		{-1234567 * time.Nanosecond, "-1.23ms"},
	} {
		if got := roundDuration(tc.in).String(); got != tc.want {
			t.Errorf("roundDuration(%d ns) = %s, want %s", int64(tc.in), got, tc.want)
		}
	}
}

// Counts agree with their noun.
func TestCounts(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{plural(1, "probe"), "1 probe"},
		{plural(0, "probe"), "0 probes"},
		{plural(2, "tcp port"), "2 tcp ports"},
		{plural(1, "udp port"), "1 udp port"},
		{byteCount(1), "1 byte"},
		{byteCount(6), "6 bytes"},
		{bytesString(1), "1 byte"},
		{bytesString(0), "0 bytes"},
		{bytesString(3984588), "3984588 bytes (3.8 MiB)"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
