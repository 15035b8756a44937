package transport

import (
	"bufio"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"strings"

	"github.com/sondeproject/sonde/safetext"
)

// maxConnectHeader bounds the head of a CONNECT answer sonde will read.
const maxConnectHeader = 64 << 10

// connectHandshake asks an HTTP proxy for target with CONNECT, and reads
// its answer up to the blank line that ends the headers, and not one byte
// further: what follows is the target's data, for the session to deliver.
func connectHandshake(conn net.Conn, p *Proxy, target string) *proxyFailure {
	var req strings.Builder
	fmt.Fprintf(&req, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n", target, target)
	if p.Auth {
		cred := base64.StdEncoding.EncodeToString([]byte(p.User + ":" + p.Password))
		fmt.Fprintf(&req, "Proxy-Authorization: Basic %s\r\n", cred)
	}
	req.WriteString("\r\n")
	if _, err := io.WriteString(conn, req.String()); err != nil {
		return &proxyFailure{err: err}
	}

	// bufio over one-byte reads: bufio never holds a byte past the line
	// it returned, so nothing after the headers is taken from conn.
	head := &byteReader{r: conn, left: maxConnectHeader}
	tp := textproto.NewReader(bufio.NewReaderSize(head, 16))
	status, err := tp.ReadLine()
	if err != nil && status == "" {
		if len(head.got) > 0 {
			return notProtocol(head.got, ProxyConnect)
		}
		return &proxyFailure{err: err}
	}
	proto, rest, _ := strings.Cut(status, " ")
	codeText, phrase, _ := strings.Cut(rest, " ")
	code, cerr := strconv.Atoi(codeText)
	if !strings.HasPrefix(proto, "HTTP/") || cerr != nil || len(codeText) != 3 {
		return notProtocol(head.got, ProxyConnect)
	}
	hdr, err := tp.ReadMIMEHeader()
	if err != nil {
		if errors.Is(err, errHeaderTooLong) {
			return &proxyFailure{why: "the proxy's answer has more than 64 KiB of headers", hint: "check the proxy address and -X"}
		}
		return &proxyFailure{err: err}
	}
	if code >= 200 && code < 300 {
		return nil
	}
	// The proxy's words go to the terminal: escaped.
	phrase = strings.TrimSpace(safetext.Escape(phrase))
	if phrase == "" {
		phrase = statusText[code]
	}
	f := &proxyFailure{why: strings.TrimSpace(fmt.Sprintf("proxy refused: %d %s", code, phrase))}
	switch code {
	case 407:
		switch {
		case !p.Auth:
			f.hint = "the proxy wants a user name and password: " + giveAuthHint
		case !offersBasic(hdr.Values("Proxy-Authenticate")):
			f.hint = fmt.Sprintf("sonde sends Basic credentials, and the proxy offers only: %s",
				safetext.Escape(strings.Join(hdr.Values("Proxy-Authenticate"), ", ")))
		default:
			f.hint = "the proxy rejected the user name or password given with " + p.authSource()
		}
	case 403:
		f.hint = "the proxy's rules forbid this destination (many allow CONNECT to port 443 only)"
	case 405, 501:
		f.hint = "the server does not support CONNECT: is it a web server rather than a proxy?"
	case 400:
		f.hint = "the proxy did not understand the request"
	case 502, 503:
		f.hint = fmt.Sprintf("the proxy could not connect to %s", target)
	case 504:
		f.hint = fmt.Sprintf("the proxy could not connect to %s: no answer in time, or refused (some proxies say 504 for both)", target)
	}
	return f
}

func offersBasic(challenges []string) bool {
	if len(challenges) == 0 {
		return true // nothing said: assume the usual
	}
	for _, c := range challenges {
		if scheme, _, _ := strings.Cut(strings.TrimSpace(c), " "); strings.EqualFold(scheme, "basic") {
			return true
		}
	}
	return false
}

// statusText names the statuses an HTTP proxy answers CONNECT with, for a
// status line that gives none (net/http would weigh more than sonde).
var statusText = map[int]string{
	400: "Bad Request",
	401: "Unauthorized",
	403: "Forbidden",
	404: "Not Found",
	405: "Method Not Allowed",
	407: "Proxy Authentication Required",
	408: "Request Timeout",
	429: "Too Many Requests",
	500: "Internal Server Error",
	501: "Not Implemented",
	502: "Bad Gateway",
	503: "Service Unavailable",
	504: "Gateway Timeout",
}

var errHeaderTooLong = errors.New("header too long")

// byteReader reads one byte at a time, at most left bytes, and keeps them.
type byteReader struct {
	r    io.Reader
	left int
	got  []byte
}

func (b *byteReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errHeaderTooLong
	}
	if len(p) == 0 {
		return 0, nil
	}
	n, err := b.r.Read(p[:1])
	b.left -= n
	if len(b.got) < 64 {
		b.got = append(b.got, p[:n]...)
	}
	return n, err
}
