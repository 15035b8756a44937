package modes

// TLS for connect and listen (--tls and its family); relay runs its own
// handshakes, one per side.

import (
	"context"
	"crypto/tls"
	"net"
	"time"

	"github.com/sondeproject/sonde/transport"
)

// testOnlyTLSTimeout, when set, replaces transport.DefaultTLSTimeout, so
// that a test of a server that never answers does not wait 15 s.
var testOnlyTLSTimeout time.Duration

// clientHandshakeTimeout bounds a client handshake: -w, or
// transport.DefaultTLSTimeout.
func clientHandshakeTimeout(w time.Duration) time.Duration {
	switch {
	case w > 0:
		return w
	case testOnlyTLSTimeout > 0:
		return testOnlyTLSTimeout
	}
	return transport.DefaultTLSTimeout
}

// clientTLS runs the client handshake on conn when --tls is on, and
// reports the session with -v.
func clientTLS(ctx context.Context, conn net.Conn, o *Options) (net.Conn, error) {
	if o.TLSClient == nil {
		return conn, nil
	}
	tc := tls.Client(conn, o.TLSClient)
	if err := transport.Handshake(ctx, tc, clientHandshakeTimeout(o.Timeout)); err != nil {
		conn.Close()
		return nil, err
	}
	for _, l := range transport.DescribeTLS(tc.ConnectionState(), transport.VerifiesPeer(o.TLSClient, false)) {
		o.UI.Verbosef(1, "%s", l)
	}
	return tc, nil
}

// serverTLS runs the server handshake on an accepted client when --tls is
// on. A client that does not finish it within timeout (-w; 10s when 0) is
// dropped.
func serverTLS(ctx context.Context, conn net.Conn, o *Server, timeout time.Duration) (net.Conn, error) {
	if o.TLSServer == nil {
		return conn, nil
	}
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	tc := tls.Server(conn, o.TLSServer)
	if err := transport.ServerHandshake(ctx, tc, timeout); err != nil {
		conn.Close()
		return nil, err
	}
	for _, l := range transport.DescribeTLS(tc.ConnectionState(), transport.VerifiesPeer(o.TLSServer, true)) {
		o.UI.Verbosef(2, "%s", l)
	}
	return tc, nil
}
