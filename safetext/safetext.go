// Package safetext makes text that a peer chose safe to show: on a
// terminal, in a hex dump file, in the environment of a program. A peer
// picks its Unix socket name (an abstract name can hold any byte), its
// certificate's fields, a proxy's status line, an ALPN protocol; written
// raw, an escape sequence in them could move the cursor, retitle or
// rewrite the terminal, and a bidi override could make a message read
// other than it is.
//
// It is a package of its own so that ui (which owns standard error) and
// transport (which words errors and hex-dump notes) share the one rule
// without importing each other.
package safetext

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escape returns s with every rune that a terminal would act on rather
// than show written as a visible Go escape: C0 controls and DEL (\n, \r,
// \x1b, \x7f), C1 controls (\u009b, whether UTF-8 encoded or not), each
// byte of invalid UTF-8 (\x9b), format characters such as bidi overrides
// and zero-width spaces (\u202e, \u200b), and the line and paragraph
// separators (\u2028). Everything else, including non-ASCII text, is kept
// as it is, and s is returned unchanged when nothing needs escaping. The
// result is valid UTF-8 and Escape(Escape(s)) == Escape(s).
func Escape(s string) string {
	i := firstUnsafe(s)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\x`)
			b.WriteByte(hexDigits[s[i]>>4])
			b.WriteByte(hexDigits[s[i]&0xf])
		case unsafeRune(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

const hexDigits = "0123456789abcdef"

// firstUnsafe is the index of the first byte Escape must change, or -1.
func firstUnsafe(s string) int {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return i
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || unsafeRune(r) {
			return i
		}
		i += size
	}
	return -1
}

// unsafeRune reports the runes a terminal acts on: controls (C0, DEL,
// C1), format characters (category Cf: bidi controls, zero-width
// characters, the byte order mark) and the Unicode line separators.
func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp)
}
