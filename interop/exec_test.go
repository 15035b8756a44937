//go:build linux

package interop

import (
	"strconv"
	"testing"
)

// TestExecPeersTalkToProgram: nc.openbsd and ncat send 4 MiB to
// `sonde -l -e cat` and half-close; cat's echo comes back whole, and sonde
// exits 0 once cat has. The peers are the independent judges of the
// half-close and of when the connection really ends.
func TestExecPeersTalkToProgram(t *testing.T) {
	t.Parallel()
	payload := randomPayload(t, 4<<20)
	peers := []struct {
		name string
		args func(port int) []string
	}{
		{"nc.openbsd", func(port int) []string { return []string{"-N", "127.0.0.1", strconv.Itoa(port)} }},
		{"ncat", func(port int) []string { return []string{"127.0.0.1", strconv.Itoa(port)} }},
	}
	for _, peer := range peers {
		t.Run(peer.name, func(t *testing.T) {
			t.Parallel()
			requirePeer(t, peer.name)
			s := sonde(t, stdio{}, "-l", "127.0.0.1", "0", "-e", "cat")
			_, port := s.ListenAddr(t)
			out := newOutFile(t)
			p := start(t, stdio{Stdin: dataFile(t, payload), Stdout: out}, peer.name, peer.args(port)...)
			p.ExpectExit(t, 0)
			s.ExpectExit(t, 0)
			sameBytes(t, peer.name+" stdout (echoed by sonde -e cat)", out.Contents(t), payload)
		})
	}
}
