package transport

import (
	"maps"
	"strings"
	"testing"
	"unicode"
)

// FuzzParseServices: the services(5) reader behind scan's service names.
// Every entry is a port 1-65535, a lower-case protocol and a name of one
// word; the first line for a port and protocol wins, so reading the file
// twice over, with comments added or with CRLF line ends changes nothing.
func FuzzParseServices(f *testing.F) {
	f.Add("http 80/tcp www # WorldWideWeb HTTP\nhttp 80/udp\n")
	f.Add("# comment only\n\nssh\t22/tcp\nsecure-shell 22/tcp\n")
	f.Add("bad 0/tcp\nbig 65536/tcp\nneg -1/tcp\nplus +25/tcp\nnoproto 25\nUPPER 7/TCP\n")
	f.Add("x 1/\r\ny 2/tcp#c\r\n")
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > 16<<10 {
			t.Skip("bufio.Scanner stops at a 64 KiB line; services files have short lines")
		}
		m := parseServices(strings.NewReader(text))
		for k, name := range m {
			if k.port < 1 || k.port > 65535 || k.network != strings.ToLower(k.network) {
				t.Fatalf("entry %+v = %q", k, name)
			}
			if name == "" || strings.ContainsFunc(name, unicode.IsSpace) || strings.Contains(name, "#") {
				t.Fatalf("entry %+v: name %q", k, name)
			}
		}
		same := func(how, text2 string) {
			if m2 := parseServices(strings.NewReader(text2)); !maps.Equal(m, m2) {
				t.Fatalf("%s changes %v into %v", how, m, m2)
			}
		}
		same("reading the file twice", text+"\n"+text)
		same("CRLF line ends", strings.ReplaceAll(text, "\n", "\r\n"))
		same("comments", strings.ReplaceAll(text, "\n", " # 1/tcp x\n"))
	})
}
