package modes

// What -C and -i do to what stdin gives, for every engine that sends it.

import (
	"bytes"
	"context"
	"io"
	"time"
)

// lineWriter applies -C (LF becomes CRLF) and -i (a pause after each line)
// to what stdin gives, and counts what it writes.
type lineWriter struct {
	w        io.Writer
	crlf     bool
	interval time.Duration
	ctx      context.Context
	onWrite  func(written []byte)
	pending  bool // a line was sent and the pause after it is still owed
	lastCR   bool // the last byte written was CR (for -C across reads)
}

func (l *lineWriter) write(p []byte) error {
	if l.interval <= 0 {
		return l.put(p)
	}
	for len(p) > 0 {
		if l.pending {
			if !sleepCtx(l.ctx, l.interval) {
				return context.Cause(l.ctx)
			}
			l.pending = false
		}
		line := p
		if i := bytes.IndexByte(p, '\n'); i >= 0 {
			line = p[:i+1]
			l.pending = true
		}
		if err := l.put(line); err != nil {
			return err
		}
		p = p[len(line):]
	}
	return nil
}

// copyFrom sends what r gives, read into buf, through l until r ends: nil
// at EOF, a *stdinError if reading fails. onRead, if set, is told of each
// read that gave bytes.
func (l *lineWriter) copyFrom(r io.Reader, buf []byte, onRead func()) error {
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if onRead != nil {
				onRead()
			}
			if werr := l.write(buf[:n]); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return &stdinError{err}
		}
	}
}

func (l *lineWriter) put(p []byte) error {
	if l.crlf {
		p, l.lastCR = toCRLF(p, l.lastCR)
	}
	n, err := l.w.Write(p)
	if n > 0 && l.onWrite != nil {
		l.onWrite(p[:n])
	}
	return err
}

// toCRLF turns each LF that is not already preceded by CR into CRLF, so
// input that has CRLF line ends passes unchanged. prevCR says whether the
// byte before p was a CR; the second result says the same for the next call.
func toCRLF(p []byte, prevCR bool) ([]byte, bool) {
	if len(p) == 0 {
		return p, prevCR
	}
	endsCR := p[len(p)-1] == '\r'
	if bytes.IndexByte(p, '\n') < 0 {
		return p, endsCR
	}
	out := make([]byte, 0, len(p)+bytes.Count(p, []byte("\n")))
	for i, c := range p {
		if c == '\n' && !(i > 0 && p[i-1] == '\r' || i == 0 && prevCR) {
			out = append(out, '\r')
		}
		out = append(out, c)
	}
	return out, endsCR
}

// writerFunc lets a function (a send to the latest sender, a broadcast)
// stand where lineWriter wants an io.Writer.
type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
