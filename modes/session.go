package modes

// Every connect and listen session over a stream goes through runSession,
// whichever end (sonde's stdin and stdout, or a program's) it joins to
// the connection.

import (
	"context"
	"net"

	"github.com/sondeproject/sonde/transport"
)

// runSession runs one stream session on conn: between the connection and
// sonde's stdin and stdout, or a program's with -e / -c.
func runSession(ctx context.Context, conn net.Conn, o *Options, hex *transport.HexStream) (sent, received int64, err error) {
	if o.Exec != nil {
		return runExec(ctx, conn, o, hex)
	}
	return runStream(ctx, conn, o, hex)
}
