package transport

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/sondeproject/sonde/safetext"
)

// HexLog writes the traffic of a session as direction-tagged hex dumps
// (--hex): each line is "> " (sent by sonde) or "< " (received), then
// exactly what `hexdump -vC` prints for those bytes, at the running offset
// of that direction. Lines starting with "#" are annotations. One HexLog is
// shared by every connection of a session; each connection dumps through
// its own *HexStream, which keeps that connection's offsets.
type HexLog struct {
	mu       sync.Mutex
	w        io.Writer
	colors   HexColors
	lastConn int64 // connection of the last chunk, to annotate switches
	stamp    bool  // a header with time and length before every chunk
	now      func() time.Time
}

// HexColors wraps dump lines in colour; the zero value adds none.
type HexColors struct {
	Sent, Received, Note func(string) string
}

// NewHexLog returns a HexLog writing to w.
func NewHexLog(w io.Writer, c HexColors) *HexLog {
	return &HexLog{w: w, colors: c, lastConn: -1, now: time.Now}
}

// StampChunks puts a header before every chunk: the time, the
// connection, the direction and the length, e.g.
// "# 12:00:00.000123 conn 1: > 17 bytes".
func (l *HexLog) StampChunks() {
	l.mu.Lock()
	l.stamp = true
	l.mu.Unlock()
}

// HexStream dumps one connection (or one datagram socket).
type HexStream struct {
	log                  *HexLog
	id                   int64
	sentOff, receivedOff int64
	multi                bool // more than one connection: say which one each chunk is
}

// Stream starts the dump of connection id (1, 2, ...), noting its peer.
// multi says whether connections may interleave (listen -k, echo, relay),
// in which case every switch of connection is annotated.
func (l *HexLog) Stream(id int64, multi bool, note string) *HexStream {
	s := &HexStream{log: l, id: id, multi: multi}
	if note != "" {
		s.Note("%s", note)
	}
	return s
}

// Sent dumps bytes sonde sent.
func (s *HexStream) Sent(p []byte) { s.dump('>', &s.sentOff, p) }

// Received dumps bytes sonde received.
func (s *HexStream) Received(p []byte) { s.dump('<', &s.receivedOff, p) }

// Note writes an annotation line, stamped with the time and connection.
// The note is escaped: it names peers, and a peer picks its name.
func (s *HexStream) Note(format string, args ...any) {
	l := s.log
	l.mu.Lock()
	defer l.mu.Unlock()
	note := safetext.Escape(fmt.Sprintf(format, args...))
	line := fmt.Sprintf("# %s conn %d: %s\n", l.now().UTC().Format("15:04:05.000000"), s.id, note)
	if l.colors.Note != nil {
		line = l.colors.Note(line[:len(line)-1]) + "\n"
	}
	io.WriteString(l.w, line)
	l.lastConn = s.id
}

func (s *HexStream) dump(dir byte, off *int64, p []byte) {
	if len(p) == 0 {
		return
	}
	l := s.log
	buf := make([]byte, 0, (len(p)/16+2)*80)
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.stamp:
		unit := "bytes"
		if len(p) == 1 {
			unit = "byte"
		}
		header := fmt.Sprintf("# %s conn %d: %c %d %s", l.now().UTC().Format("15:04:05.000000"), s.id, dir, len(p), unit)
		if l.colors.Note != nil {
			header = l.colors.Note(header)
		}
		buf = append(append(buf, header...), '\n')
		l.lastConn = s.id
	case s.multi && l.lastConn != s.id:
		buf = fmt.Appendf(buf, "# conn %d\n", s.id)
		l.lastConn = s.id
	}
	color := l.colors.Received
	if dir == '>' {
		color = l.colors.Sent
	}
	for len(p) > 0 {
		n := min(16, len(p))
		line := AppendHexLine(nil, dir, *off, p[:n])
		if color != nil {
			buf = append(buf, color(string(line))...)
		} else {
			buf = append(buf, line...)
		}
		buf = append(buf, '\n')
		*off += int64(n)
		p = p[n:]
	}
	l.w.Write(buf)
}

const hexDigits = "0123456789abcdef"

// AppendHexLine appends one dump line (without newline) for up to 16
// bytes at offset off: the direction mark, a space, then hexdump -C's
// layout: 8-digit offset, two spaces, two groups of 8 bytes, |ascii|.
func AppendHexLine(dst []byte, dir byte, off int64, p []byte) []byte {
	dst = append(dst, dir, ' ')
	dst = fmt.Appendf(dst, "%08x  ", off)
	for i := range 16 {
		if i < len(p) {
			dst = append(dst, hexDigits[p[i]>>4], hexDigits[p[i]&0xf], ' ')
		} else {
			dst = append(dst, ' ', ' ', ' ')
		}
		if i == 7 {
			dst = append(dst, ' ')
		}
	}
	dst = append(dst, ' ', '|')
	for _, c := range p {
		if c < 0x20 || c > 0x7e {
			c = '.'
		}
		dst = append(dst, c)
	}
	return append(dst, '|')
}
