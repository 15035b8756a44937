package safetext

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// TestEscape: what a terminal would act on comes out as a visible
// escape; what it would show stays as it is.
func TestEscape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"127.0.0.1:4444", "127.0.0.1:4444"},
		{"@sonde.sock", "@sonde.sock"},
		{`C:\Temp\x1b`, `C:\Temp\x1b`}, // a backslash is shown, not doubled
		{"héllo, 世界 ✓", "héllo, 世界 ✓"},
		{"\ufffd", "\ufffd"}, // a real replacement character is text
		{"a\nb\r\tc", `a\nb\r\tc`},
		{"\x00@\x1b[2J\x1b]0;owned\x07", `\x00@\x1b[2J\x1b]0;owned\a`},
		{"del\x7f", `del\x7f`},
		{"csi\u009b31m", `csi\u009b31m`},           // C1, UTF-8 encoded
		{"csi\x9b31m", `csi\x9b31m`},               // C1, raw byte: invalid UTF-8
		{"nel\u0085", `nel\u0085`},                 // the last C1 escapes too
		{"bad\xff\xfe\xc3", `bad\xff\xfe\xc3`},     // invalid and truncated
		{"\xed\xa0\x80", `\xed\xa0\x80`},           // a UTF-16 surrogate
		{"evil\u202etxt.exe", `evil\u202etxt.exe`}, // right-to-left override
		{"\u2066isolate\u2069", `\u2066isolate\u2069`},
		{"zero\u200bwidth\u200d\ufeff", `zero\u200bwidth\u200d\ufeff`},
		{"soft\u00adhyphen", `soft\u00adhyphen`},
		{"tag\U000e0041", `tag\U000e0041`},
		{"line\u2028para\u2029", `line\u2028para\u2029`},
	} {
		if got := Escape(tc.in); got != tc.want {
			t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzEscape: whatever the input, the output is valid UTF-8 with no
// control or format rune in it, the same for the same input, unchanged
// by a second pass, and the input itself when nothing needed escaping.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{"", "plain", "\x1b[31m", "\x9b", "\u009b", "\u202e", "a\xffb", "\xf0\x9f", "日本\u200b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Escape(s)
		if !utf8.ValidString(out) {
			t.Fatalf("Escape(%q) = %q: not valid UTF-8", s, out)
		}
		for _, r := range out {
			if shownRaw(r) {
				t.Fatalf("Escape(%q) = %q: holds %U", s, out, r)
			}
		}
		if again := Escape(s); again != out {
			t.Fatalf("Escape(%q) gave %q, then %q", s, out, again)
		}
		if twice := Escape(out); twice != out {
			t.Fatalf("Escape(%q) = %q, escaped again: %q", s, out, twice)
		}
		if out != s && utf8.ValidString(s) && !strings.ContainsFunc(s, shownRaw) {
			t.Fatalf("Escape(%q) = %q: changed a safe string", s, out)
		}
	})
}

// shownRaw is what must never reach a terminal as it is.
func shownRaw(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.In(r, unicode.Zl, unicode.Zp)
}
