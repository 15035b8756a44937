// Package proxytest runs SOCKS4/4a, SOCKS5 and HTTP CONNECT proxies on
// loopback for tests, as net/http/httptest runs web servers. A proxy
// forwards only to loopback addresses (and the name localhost): anything
// else is refused as unreachable, so a test can never send traffic off
// the machine. It can require credentials, refuse every request with a
// given reply, or stay silent, to exercise a client's error paths.
package proxytest

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Proxy protocols, as sonde's -X spells them.
const (
	SOCKS5  = "5"
	SOCKS4  = "4"
	Connect = "connect"
)

// Config says how a proxy behaves.
type Config struct {
	Type string // SOCKS5, SOCKS4 or Connect
	// User and Password, when User is set, are required: SOCKS5
	// username/password, HTTP Basic, and for SOCKS4 the user id (User
	// alone).
	User, Password string
	// Reply, when not zero, refuses every request with this SOCKS5 reply
	// code, SOCKS4 reply code (91-93) or HTTP status.
	Reply int
	// Silent proxies accept connections and never answer.
	Silent bool
	// AfterHeaders is sent by an HTTP proxy in the same write as its 200
	// answer, as if the target's first bytes arrived with it.
	AfterHeaders []byte
	// HangUpOnHalfClose closes the tunnel both ways as soon as the client
	// half-closes, as squid and ncat's proxy do, instead of passing the
	// half-close on and waiting for the target.
	HangUpOnHalfClose bool
}

// Request is one CONNECT request a proxy received.
type Request struct {
	Host     string // as sent: an IP address or a name
	Port     int
	Name     bool   // the host was sent as a name (SOCKS5 domain, SOCKS4a)
	User     string // SOCKS4 user id, or the user of the credentials sent
	Password string
}

// Server is a running proxy.
type Server struct {
	cfg  Config
	ln   net.Listener
	wg   sync.WaitGroup
	mu   sync.Mutex
	reqs []Request
	open map[net.Conn]struct{}
	done bool
}

// Start runs a proxy on 127.0.0.1, on a port of the system's choosing.
func Start(cfg Config) (*Server, error) {
	switch cfg.Type {
	case SOCKS5, SOCKS4, Connect:
	default:
		return nil, fmt.Errorf("proxytest: unknown proxy type %q", cfg.Type)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, ln: ln, open: make(map[net.Conn]struct{})}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

// Addr is the proxy's host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// Close stops the proxy, closes every connection and waits for its
// goroutines to end.
func (s *Server) Close() error {
	err := s.ln.Close()
	s.mu.Lock()
	s.done = true
	for c := range s.open {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

// track registers a connection to close with the server; false if the
// server is closing.
func (s *Server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		c.Close()
		return false
	}
	s.open[c] = struct{}{}
	return true
}

func (s *Server) untrack(c net.Conn) {
	s.mu.Lock()
	delete(s.open, c)
	s.mu.Unlock()
	c.Close()
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		if !s.track(c) {
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.untrack(c)
			if s.cfg.Silent {
				io.Copy(io.Discard, c)
				return
			}
			switch s.cfg.Type {
			case SOCKS5:
				s.socks5(c)
			case SOCKS4:
				s.socks4(c)
			default:
				s.connect(c)
			}
		}()
	}
}

func (s *Server) record(r Request) {
	s.mu.Lock()
	s.reqs = append(s.reqs, r)
	s.mu.Unlock()
}

var errNotLoopback = errors.New("proxytest: forwards to loopback only")

// dialTarget connects to a loopback target; other hosts are unreachable.
func (s *Server) dialTarget(host string, port int) (net.Conn, error) {
	if host == "localhost" {
		host = "127.0.0.1"
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.IsLoopback() {
		return nil, errNotLoopback
	}
	t, err := net.DialTimeout("tcp", netip.AddrPortFrom(ip, uint16(port)).String(), 5*time.Second)
	if err != nil {
		return nil, err
	}
	if !s.track(t) {
		return nil, net.ErrClosed
	}
	return t, nil
}

// relay copies both ways, passing each half-close on, until both
// directions are done. client is read through r (which may hold bytes
// already buffered).
func (s *Server) relay(client net.Conn, r io.Reader, target net.Conn) {
	defer s.untrack(target)
	done := make(chan struct{})
	go func() {
		io.Copy(client, target)
		closeWrite(client)
		close(done)
	}()
	io.Copy(target, r)
	if s.cfg.HangUpOnHalfClose {
		target.Close()
		client.Close()
	} else {
		closeWrite(target)
	}
	<-done
}

func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
}

func (s *Server) socks5(c net.Conn) {
	r := bufio.NewReader(c)
	head := make([]byte, 2)
	if _, err := io.ReadFull(r, head); err != nil || head[0] != 5 {
		return
	}
	methods := make([]byte, head[1])
	if _, err := io.ReadFull(r, methods); err != nil {
		return
	}
	want := byte(0)
	if s.cfg.User != "" {
		want = 2
	}
	if bytes.IndexByte(methods, want) < 0 {
		c.Write([]byte{5, 0xff})
		return
	}
	c.Write([]byte{5, want})
	var req Request
	if want == 2 {
		user, pass, ok := readUserPass(r)
		if !ok {
			return
		}
		req.User, req.Password = user, pass
		if user != s.cfg.User || pass != s.cfg.Password {
			c.Write([]byte{1, 1})
			return
		}
		c.Write([]byte{1, 0})
	}
	hdr := make([]byte, 4)
	if _, err := io.ReadFull(r, hdr); err != nil || hdr[0] != 5 {
		return
	}
	switch hdr[3] {
	case 1, 4:
		ip := make([]byte, 4)
		if hdr[3] == 4 {
			ip = make([]byte, 16)
		}
		if _, err := io.ReadFull(r, ip); err != nil {
			return
		}
		a, _ := netip.AddrFromSlice(ip)
		req.Host = a.Unmap().String()
	case 3:
		n, err := r.ReadByte()
		if err != nil {
			return
		}
		name := make([]byte, n)
		if _, err := io.ReadFull(r, name); err != nil {
			return
		}
		req.Host, req.Name = string(name), true
	default:
		socks5Reply(c, 8)
		return
	}
	var port [2]byte
	if _, err := io.ReadFull(r, port[:]); err != nil {
		return
	}
	req.Port = int(binary.BigEndian.Uint16(port[:]))
	s.record(req)
	s.grant(c, r, req, hdr[1], socks5Codes)
}

// socksCodes are a SOCKS version's reply codes for each outcome of a
// request, and how it sends one.
type socksCodes struct {
	send                                                   func(c net.Conn, code byte)
	granted, notSupported, hostUnreachable, connectRefused byte
}

var (
	socks5Codes = socksCodes{send: socks5Reply, granted: 0, notSupported: 7, hostUnreachable: 4, connectRefused: 5}
	// SOCKS4 has one code for every failure but identd's.
	socks4Codes = socksCodes{send: socks4Reply, granted: 90, notSupported: 91, hostUnreachable: 91, connectRefused: 91}
)

// grant answers a SOCKS request (command cmd) in the words of codes: a
// forced Config.Reply, or the outcome of connecting to the target, and
// on success relays.
func (s *Server) grant(c net.Conn, r *bufio.Reader, req Request, cmd byte, codes socksCodes) {
	switch {
	case cmd != 1:
		codes.send(c, codes.notSupported)
		return
	case s.cfg.Reply != 0:
		codes.send(c, byte(s.cfg.Reply))
		return
	}
	t, err := s.dialTarget(req.Host, req.Port)
	switch {
	case errors.Is(err, errNotLoopback):
		codes.send(c, codes.hostUnreachable)
		return
	case err != nil:
		codes.send(c, codes.connectRefused)
		return
	}
	codes.send(c, codes.granted)
	s.relay(c, r, t)
}

func socks5Reply(c net.Conn, code byte) {
	c.Write([]byte{5, code, 0, 1, 127, 0, 0, 1, 0, 0})
}

func readUserPass(r *bufio.Reader) (user, pass string, ok bool) {
	v, err := r.ReadByte()
	if err != nil || v != 1 {
		return "", "", false
	}
	read := func() (string, bool) {
		n, err := r.ReadByte()
		if err != nil {
			return "", false
		}
		b := make([]byte, n)
		_, err = io.ReadFull(r, b)
		return string(b), err == nil
	}
	if user, ok = read(); !ok {
		return
	}
	pass, ok = read()
	return
}

func (s *Server) socks4(c net.Conn) {
	r := bufio.NewReader(c)
	hdr := make([]byte, 8)
	if _, err := io.ReadFull(r, hdr); err != nil || hdr[0] != 4 {
		return
	}
	user, err := r.ReadString(0)
	if err != nil {
		return
	}
	req := Request{Port: int(binary.BigEndian.Uint16(hdr[2:4])), User: strings.TrimSuffix(user, "\x00")}
	ip := netip.AddrFrom4([4]byte(hdr[4:8]))
	if hdr[4] == 0 && hdr[5] == 0 && hdr[6] == 0 && hdr[7] != 0 {
		name, err := r.ReadString(0)
		if err != nil {
			return
		}
		req.Host, req.Name = strings.TrimSuffix(name, "\x00"), true
	} else {
		req.Host = ip.String()
	}
	s.record(req)
	if s.cfg.User != "" && req.User != s.cfg.User {
		socks4Reply(c, 93)
		return
	}
	s.grant(c, r, req, hdr[1], socks4Codes)
}

func socks4Reply(c net.Conn, code byte) {
	c.Write([]byte{0, code, 0, 0, 0, 0, 0, 0})
}

func (s *Server) connect(c net.Conn) {
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil {
		return
	}
	f := strings.Fields(line)
	if len(f) != 3 || f[0] != "CONNECT" {
		io.WriteString(c, "HTTP/1.1 405 Method Not Allowed\r\n\r\n")
		return
	}
	var req Request
	host, port, err := net.SplitHostPort(f[1])
	if err != nil {
		io.WriteString(c, "HTTP/1.1 400 Bad Request\r\n\r\n")
		return
	}
	req.Host = host
	req.Port, _ = strconv.Atoi(port)
	_, nameErr := netip.ParseAddr(host)
	req.Name = nameErr != nil
	for {
		h, err := r.ReadString('\n')
		if err != nil {
			return
		}
		h = strings.TrimRight(h, "\r\n")
		if h == "" {
			break
		}
		k, v, _ := strings.Cut(h, ":")
		if strings.EqualFold(k, "Proxy-Authorization") {
			scheme, cred, _ := strings.Cut(strings.TrimSpace(v), " ")
			if b, err := base64.StdEncoding.DecodeString(cred); err == nil && strings.EqualFold(scheme, "basic") {
				req.User, req.Password, _ = strings.Cut(string(b), ":")
			}
		}
	}
	s.record(req)
	switch {
	case s.cfg.User != "" && (req.User != s.cfg.User || req.Password != s.cfg.Password):
		io.WriteString(c, "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"proxytest\"\r\nContent-Length: 0\r\n\r\n")
		return
	case s.cfg.Reply != 0:
		fmt.Fprintf(c, "HTTP/1.1 %d %s\r\nContent-Length: 0\r\n\r\n", s.cfg.Reply, statusText(s.cfg.Reply))
		return
	}
	t, err := s.dialTarget(req.Host, req.Port)
	if err != nil {
		io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
		return
	}
	c.Write(append([]byte("HTTP/1.1 200 Connection established\r\nVia: proxytest\r\n\r\n"), s.cfg.AfterHeaders...))
	s.relay(c, r, t)
}

func statusText(code int) string {
	switch code {
	case 403:
		return "Forbidden"
	case 407:
		return "Proxy Authentication Required"
	case 502:
		return "Bad Gateway"
	case 503:
		return "Service Unavailable"
	case 504:
		return "Gateway Timeout"
	}
	return "Error"
}
