package modes

// How modes word what they report: counts, sizes, durations, and the
// lines of --json, whose times are float milliseconds.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"strconv"
	"syscall"
	"time"

	"github.com/sondeproject/sonde/transport"
)

// stats are the byte counts of a session, reported with -v.
type stats struct {
	sent, received int64
	started        time.Time
}

func (s *stats) summary() string {
	return fmt.Sprintf("sent %s, received %s in %s", bytesString(s.sent), bytesString(s.received),
		roundDuration(time.Since(s.started)))
}

// endSession reports a session's totals with -v and returns its error.
// A failed session's totals come after the error that ended it, which main
// prints: they go with the error as a *Summarized. An interruption, which
// main does not explain, is summed up at once.
func endSession(o *Options, st *stats, err error) error {
	if err == nil || isInterrupted(err) || o.UI.Verbosity() < 1 {
		o.UI.Verbosef(1, "%s", st.summary())
		return err
	}
	return &Summarized{Err: err, Summary: st.summary()}
}

// plural words a count: "1 datagram", "2 datagrams".
func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// byteCount says the size of one read or datagram: "1 byte", "6 bytes".
func byteCount(n int) string { return plural(int64(n), "byte") }

// bytesString says a byte count as every message does (transport.FormatBytes).
func bytesString(n int64) string { return transport.FormatBytes(n) }

// describeNetwork names a network as messages say it.
func describeNetwork(network string) string {
	switch network {
	case "unixgram":
		return "unix datagram"
	case "unix":
		return "unix stream"
	}
	return network
}

// describeListener names the network of a listener bound to addr and,
// for a wildcard address, which clients reach it: "tcp, IPv4 only".
func describeListener(o *Server, addr net.Addr) string {
	if scope := transport.ListenScope(o.Listen, addr); scope != "" {
		return describeNetwork(o.Network) + ", " + scope
	}
	return describeNetwork(o.Network)
}

// roundDuration keeps three significant digits, as people write a time
// they have measured: 747ms, 1.23s, 41.2µs, 2m3s.
func roundDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -roundDuration(-d)
	}
	unit := time.Duration(1)
	for d >= 1000*unit {
		unit *= 10
	}
	return d.Round(unit)
}

// writeJSONLine writes v as one line of newline-delimited JSON, in one
// Write. A reader that went away ends the mode quietly (errStdoutClosed).
func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return writeReport(w, append(b, '\n'))
}

// writeLine writes one line of a text report (ping's, wait's) to w, the
// mode's stdout, in one Write, with the errors of writeJSONLine.
func writeLine(w io.Writer, format string, args ...any) error {
	return writeReport(w, fmt.Appendf(nil, format+"\n", args...))
}

// writeReport writes a report's lines to stdout in one Write. A reader
// that went away ends the mode quietly (errStdoutClosed).
func writeReport(w io.Writer, b []byte) error {
	if _, err := w.Write(b); err != nil {
		if errors.Is(err, syscall.EPIPE) {
			return errStdoutClosed
		}
		return &stdoutError{err}
	}
	return nil
}

// ms is d in float milliseconds, to the microsecond: every time in the
// JSON output is a float number of milliseconds.
func ms(d time.Duration) float64 {
	return math.Round(float64(d)/1e3) / 1e3
}

// optionalMs is ms(d), or null in JSON when no answer came (d is 0).
func optionalMs(d time.Duration) *float64 {
	if d <= 0 {
		return nil
	}
	v := ms(d)
	return &v
}

// formatMs prints a time as ping(8) does: "0.123 ms".
func formatMs(d time.Duration) string {
	return strconv.FormatFloat(ms(d), 'f', 3, 64) + " ms"
}

// msPtr is ms(d) for a JSON field that is null only when nothing was
// measured at all.
func msPtr(d time.Duration) *float64 {
	v := ms(d)
	return &v
}

// formatPct prints a loss as ping(8) does: "0%", "33.3%".
func formatPct(p float64) string {
	if p == math.Trunc(p) {
		return strconv.Itoa(int(p)) + "%"
	}
	return strconv.FormatFloat(p, 'f', 1, 64) + "%"
}

// announce reports the bound address: always when port 0 let the system
// choose it (the user cannot know it otherwise), else with -v. A Unix
// socket has no port: its path is what the user gave.
func announce(o *Server, addr net.Addr) {
	level := 1
	if o.Listen.Port == 0 && (o.Network == "tcp" || o.Network == "udp") {
		level = 0
	}
	o.UI.Verbosef(level, "listening on %s (%s)", addr, describeListener(o, addr))
	if o.OnReady != nil {
		o.OnReady(addr)
	}
}
