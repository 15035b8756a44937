//go:build linux

package interop

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestTCPConnectToPeer: sonde connects to a peer listener, sends its stdin,
// half-closes, prints what the peer answered and exits 0.
func TestTCPConnectToPeer(t *testing.T) {
	t.Parallel()
	const sent = "hello from sonde\n"
	const reply = "hello from the peer\n"

	// Peers that listen on a port chosen for them, print what they
	// receive on stdout and send their stdin.
	peers := []peerCommand[int]{
		{"nc.openbsd", "nc.openbsd", func(port int) []string {
			return []string{"-l", "127.0.0.1", strconv.Itoa(port)}
		}},
		{"ncat", "ncat", func(port int) []string {
			return []string{"-l", "127.0.0.1", strconv.Itoa(port)}
		}},
		{"socat", "socat", func(port int) []string {
			// -t 10: after the first EOF socat waits up to 10 s (not
			// 0.5 s) for the other direction to finish.
			return []string{"-t", "10", fmt.Sprintf("TCP-LISTEN:%d,bind=127.0.0.1,reuseaddr", port), "STDIO"}
		}},
	}
	for _, peer := range peers {
		t.Run(peer.name, func(t *testing.T) {
			t.Parallel()
			requirePeer(t, peer.program)
			listener, port := startPeerListener(t, "tcp4", func(port int) *proc {
				return start(t, stdio{Stdin: dataFile(t, []byte(reply))}, peer.program, peer.args(port)...)
			})
			talk(t, listener, sent, reply, "127.0.0.1", strconv.Itoa(port))
		})
	}

	t.Run("socat-exec-cat-4MiB", func(t *testing.T) {
		// Both directions at full speed at once: sonde must keep reading
		// while it writes, or both sides block on full buffers.
		t.Parallel()
		requirePeer(t, "socat")
		payload := randomPayload(t, 4<<20)
		_, port := startPeerListener(t, "tcp4", func(port int) *proc {
			return start(t, stdio{}, "socat", "-t", "10",
				fmt.Sprintf("TCP-LISTEN:%d,bind=127.0.0.1,reuseaddr", port), "EXEC:cat")
		})
		out := newOutFile(t)
		s := sonde(t, stdio{Stdin: dataFile(t, payload), Stdout: out}, "127.0.0.1", strconv.Itoa(port))
		s.ExpectExit(t, 0)
		sameBytes(t, "sonde stdout (echoed by socat EXEC:cat)", out.Contents(t), payload)
	})

	t.Run("python-seed-server", func(t *testing.T) {
		t.Parallel()
		server := python(t, stdio{}, "tcp_server.py")
		port := printedPort(t, server)
		sondeGets(t, "Hello TCP Server", "Echo: Hello TCP Server.", "127.0.0.1", strconv.Itoa(port))
		server.ExpectExit(t, 0)
		if got := server.Stdout.String(); !strings.Contains(got, "Recieved:  Hello TCP Server\n") {
			t.Errorf("the seed server did not receive sonde's message; its stdout:\n%s", got)
		}
	})
}

// TestTCPPeerConnectsToSonde: peers connect to `sonde -l 127.0.0.1 0` and
// send; sonde's stdout must be exactly what they sent (`sonde ... > file` is a
// byte-exact copy of the stream), and sonde exits 0 when they close.
func TestTCPPeerConnectsToSonde(t *testing.T) {
	t.Parallel()
	payload := randomPayload(t, 4<<20)

	senders := []peerCommand[int]{
		{"nc.openbsd", "nc.openbsd", func(port int) []string {
			return []string{"-N", "127.0.0.1", strconv.Itoa(port)}
		}},
		{"ncat", "ncat", func(port int) []string {
			return []string{"--send-only", "127.0.0.1", strconv.Itoa(port)}
		}},
		{"socat", "socat", func(port int) []string {
			return []string{"-u", "STDIN", fmt.Sprintf("TCP:127.0.0.1:%d", port)}
		}},
	}
	for _, snd := range senders {
		t.Run(snd.name+"-4MiB", func(t *testing.T) {
			t.Parallel()
			requirePeer(t, snd.program)
			out := newOutFile(t)
			s := sonde(t, stdio{Stdout: out}, "-l", "127.0.0.1", "0")
			_, port := s.ListenAddr(t)
			peer := start(t, stdio{Stdin: dataFile(t, payload)}, snd.program, snd.args(port)...)
			checkDelivered(t, peer, s, func() []byte { return out.Contents(t) }, payload)
		})
	}

	t.Run("python-seed-client", func(t *testing.T) {
		t.Parallel()
		const answer = "Hello from sonde"
		s := sonde(t, stdio{Stdin: dataFile(t, []byte(answer))}, "-l", "127.0.0.1", "0")
		_, port := s.ListenAddr(t)
		client := python(t, stdio{}, "tcp_client.py", strconv.Itoa(port))
		checkDelivered(t, client, s, s.Stdout.Bytes, []byte("Hello TCP Server"))
		sameBytes(t, "seed client stdout", client.Stdout.Bytes(), []byte("Server says: "+answer+"\n"))
	})
}

// TestTCPHalfClose: `printf 'GET / HTTP/1.0\r\n\r\n' | sonde HOST PORT`
// against a server that answers only after the request's EOF. sonde must
// half-close when stdin ends, print the whole reply and exit 0.
// Without the half-close both sides would wait until the deadline.
func TestTCPHalfClose(t *testing.T) {
	t.Parallel()
	const request = "GET / HTTP/1.0\r\n\r\n"
	server := python(t, stdio{}, "eof_server.py")
	port := printedPort(t, server)
	s := sonde(t, stdio{Stdin: strings.NewReader(request)}, "127.0.0.1", strconv.Itoa(port))
	s.ExpectExit(t, 0)

	want := []byte("HTTP/1.0 200 OK\r\nX-Request: GET / HTTP/1.0\r\n\r\n")
	for i := range 200000 {
		want = append(want, byte(i%251))
	}
	sameBytes(t, "sonde stdout (the reply)", s.Stdout.Bytes(), want)
	server.ExpectExit(t, 0)
	if got, wantLog := server.Stdout.String(), fmt.Sprintf("request was %d bytes\n", len(request)); !strings.HasSuffix(got, wantLog) {
		t.Errorf("server stdout = %q, want it to end with %q", got, wantLog)
	}
}

// TestTCPSlowReader: nc.openbsd sends 16 MiB to `sonde -l`, whose stdout
// is a pipe to a reader that takes its time. sonde must wait for the pipe,
// and lose, duplicate or reorder nothing: a slow stdout is backpressure,
// never loss. With
// -v sonde copies through its own loop rather than io.Copy, so both paths
// are covered.
func TestTCPSlowReader(t *testing.T) {
	t.Parallel()
	payload := randomPayload(t, 16<<20)
	wantSum := fmt.Sprintf("%d %x\n", len(payload), sha256.Sum256(payload))

	for _, variant := range []struct {
		name  string
		flags []string
	}{
		{"plain", nil},
		{"verbose", []string{"-v"}},
	} {
		t.Run(variant.name, func(t *testing.T) {
			t.Parallel()
			requirePeer(t, "nc.openbsd")
			requirePeer(t, "python3")
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			args := append(append([]string{}, variant.flags...), "-l", "127.0.0.1", "0")
			s := sonde(t, stdio{Stdout: pw}, args...)
			reader := python(t, stdio{Stdin: pr}, "slow_reader.py")
			// The children hold their own copies; the reader sees EOF only
			// once every write end is closed.
			pw.Close()
			pr.Close()

			_, port := s.ListenAddr(t)
			nc := start(t, stdio{Stdin: dataFile(t, payload)}, "nc.openbsd", "-N", "127.0.0.1", strconv.Itoa(port))
			nc.ExpectExit(t, 0)
			s.ExpectExit(t, 0)
			reader.ExpectExit(t, 0)
			if got := reader.Stdout.String(); got != wantSum {
				t.Errorf("slow reader got %q, want %q (byte count and sha256)", got, wantSum)
			}
			if len(variant.flags) > 0 {
				if want := fmt.Sprintf("received %d bytes", len(payload)); !bytes.Contains(s.Stderr.Bytes(), []byte(want)) {
					t.Errorf("sonde -v summary does not say %q; stderr:\n%s", want, s.Stderr.String())
				}
			}
		})
	}
}

// TestTCPResetMidStream: a peer that sends 1000 bytes and then aborts the
// connection (RST). sonde must write those 1000 bytes to stdout, exit 1,
// and say what a reset mid-stream needs to explain it: connection reset by
// peer, on which address, after how many bytes. The plain run copies with
// io.Copy (splice), the -v run with sonde's own loop; both must say the same.
func TestTCPResetMidStream(t *testing.T) {
	t.Parallel()
	want := bytes.Repeat([]byte("x"), 1000)
	checkReport := func(t *testing.T, s *proc, peerAddr string) {
		t.Helper()
		s.ExpectExit(t, 1)
		sameBytes(t, "sonde stdout (sent before the reset)", s.Stdout.Bytes(), want)
		stderr := s.Stderr.String()
		var line string
		for l := range strings.Lines(stderr) {
			if strings.Contains(l, "reset by peer") {
				line = l
				break
			}
		}
		if line == "" {
			t.Fatalf("sonde stderr should say \"connection reset by peer\"; got:\n%s", stderr)
		}
		for _, part := range []string{peerAddr, "after 1000 bytes received"} {
			if !strings.Contains(line, part) {
				t.Errorf("sonde's reset message should name %q; got:\n%s", part, stderr)
			}
		}
	}
	for _, variant := range []struct {
		name  string
		flags []string
	}{
		{"plain", nil},
		{"verbose", []string{"-v"}},
	} {
		t.Run("connect-"+variant.name, func(t *testing.T) {
			t.Parallel()
			server := python(t, stdio{}, "reset_peer.py", "server")
			port := printedPort(t, server)
			args := append(append([]string{}, variant.flags...), "127.0.0.1", strconv.Itoa(port))
			s := sonde(t, stdio{Stdin: strings.NewReader("go\n")}, args...)
			checkReport(t, s, fmt.Sprintf("127.0.0.1:%d", port))
			server.ExpectExit(t, 0)
		})
		t.Run("listen-"+variant.name, func(t *testing.T) {
			t.Parallel()
			args := append(append([]string{}, variant.flags...), "-l", "127.0.0.1", "0")
			s := sonde(t, stdio{Stdin: strings.NewReader("go\n")}, args...)
			_, port := s.ListenAddr(t)
			client := python(t, stdio{}, "reset_peer.py", "client", strconv.Itoa(port))
			client.ExpectExit(t, 0)
			m := regexp.MustCompile(`local port: (\d+)`).FindStringSubmatch(client.Stdout.String())
			if m == nil {
				t.Fatalf("the client did not print its port; stdout:\n%s", client.Stdout.String())
			}
			checkReport(t, s, "127.0.0.1:"+m[1])
		})
	}
}
