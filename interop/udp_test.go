//go:build linux

package interop

import (
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestUDPConnectToPeer: `echo hi | sonde -u 127.0.0.1 PORT` sends one
// datagram, prints the answer and exits 0 once that one reply has
// arrived (--replies 1; -q -1 -w 10, so that a loaded machine's late
// reply is waited for, not lost to the 1 s linger).
func TestUDPConnectToPeer(t *testing.T) {
	t.Parallel()

	t.Run("python-seed-server", func(t *testing.T) {
		t.Parallel()
		server := python(t, stdio{}, "udp_server.py")
		port := printedPort(t, server)
		sondeGets(t, "hi\n", "Recieved you Message: hi\n", "-u", "-q", "-1", "-w", "10", "--replies", "1", "127.0.0.1", strconv.Itoa(port))
	})

	echoes := []peerCommand[int]{
		{"socat-recvfrom-cat", "socat", func(port int) []string {
			return []string{fmt.Sprintf("UDP-RECVFROM:%d,bind=127.0.0.1,fork", port), "EXEC:cat"}
		}},
		{"ncat-exec-cat", "ncat", func(port int) []string {
			return []string{"-u", "-l", "127.0.0.1", strconv.Itoa(port), "--exec", "/bin/cat"}
		}},
	}
	for _, echo := range echoes {
		t.Run(echo.name, func(t *testing.T) {
			t.Parallel()
			requirePeer(t, echo.program)
			_, port := startPeerListener(t, "udp4", func(port int) *proc {
				return start(t, stdio{}, echo.program, echo.args(port)...)
			})
			sondeGets(t, "hi\n", "hi\n", "-u", "-q", "-1", "-w", "10", "--replies", "1", "127.0.0.1", strconv.Itoa(port))
		})
	}

	t.Run("python-echo-65507-byte-datagram", func(t *testing.T) {
		// The largest UDP payload over IPv4 must travel as one datagram
		// each way: sonde preserves datagram boundaries up to 65,507 bytes.
		t.Parallel()
		server := python(t, stdio{}, "dgram_echo.py", "inet", "127.0.0.1")
		port := printedPort(t, server)
		payload := randomPayload(t, 65507)
		s := sonde(t, stdio{Stdin: dataFile(t, payload)}, "-u", "-q", "-1", "-w", "10", "--replies", "1", "127.0.0.1", strconv.Itoa(port))
		s.ExpectExit(t, 0)
		sameBytes(t, "sonde stdout", s.Stdout.Bytes(), payload)
	})
}

// TestUDPPeerSendsToSonde: the seed UDP client sends one datagram to
// `sonde -u -l 127.0.0.1 0 --replies 1`, which prints it and exits 0.
func TestUDPPeerSendsToSonde(t *testing.T) {
	t.Parallel()

	t.Run("python-seed-client", func(t *testing.T) {
		t.Parallel()
		s := sonde(t, stdio{}, "-u", "-l", "127.0.0.1", "0", "--replies", "1")
		_, port := s.ListenAddr(t)
		python(t, stdio{}, "udp_client.py", strconv.Itoa(port))
		s.ExpectExit(t, 0)
		sameBytes(t, "sonde stdout", s.Stdout.Bytes(), []byte("Hello UDP server"))
	})

	t.Run("python-seed-client-gets-reply", func(t *testing.T) {
		// A UDP listener sends its replies (stdin) to its first sender.
		// -q 1: quit 1 s after stdin ends, since a listener
		// otherwise keeps receiving.
		t.Parallel()
		s := sonde(t, stdio{Stdin: strings.NewReader("answer from sonde")}, "-u", "-l", "127.0.0.1", "0", "-q", "1")
		_, port := s.ListenAddr(t)
		client := python(t, stdio{}, "udp_client.py", strconv.Itoa(port))
		checkDelivered(t, client, s, s.Stdout.Bytes, []byte("Hello UDP server"))
		sameBytes(t, "seed client stdout", client.Stdout.Bytes(), []byte("server says:  answer from sonde\n"))
	})

	t.Run("socat-udp-sendto", func(t *testing.T) {
		t.Parallel()
		requirePeer(t, "socat")
		s := sonde(t, stdio{}, "-u", "-l", "127.0.0.1", "0", "--replies", "1")
		_, port := s.ListenAddr(t)
		peer := start(t, stdio{Stdin: strings.NewReader("datagram from socat\n")},
			"socat", "-u", "STDIN", fmt.Sprintf("UDP-SENDTO:127.0.0.1:%d", port))
		checkDelivered(t, peer, s, s.Stdout.Bytes, []byte("datagram from socat\n"))
	})
}

// TestUDPOneShotResponder: `sonde -luv --replies 1 < reply` answers the
// seed client every time, its stdin at EOF before the datagram comes, and
// its summary counts the bytes it sent. sonde once ended the session
// before stdin was sent (about one run in ten got no reply) and reported
// "sent 0 bytes" even when the reply went out. 30 runs, one after another.
func TestUDPOneShotResponder(t *testing.T) {
	t.Parallel()
	for i := range 30 {
		s := sonde(t, stdio{Stdin: dataFile(t, []byte("answer from sonde"))}, "-luv", "--replies", "1", "127.0.0.1", "0")
		_, port := s.ListenAddr(t)
		client := python(t, stdio{}, "udp_client.py", strconv.Itoa(port))
		client.ExpectExit(t, 0)
		s.ExpectExit(t, 0)
		if got := client.Stdout.String(); got != "server says:  answer from sonde\n" {
			t.Fatalf("run %d: the client printed %q: no reply from sonde\nsonde stderr:\n%s", i, got, s.Stderr)
		}
		if want := "sonde: sent 17 bytes, received 16 bytes in 1 datagram\n"; !strings.Contains(s.Stderr.String(), want) {
			t.Fatalf("run %d: sonde's summary should say %q; stderr:\n%s", i, want, s.Stderr)
		}
	}
}

// TestUDPListenerStaysWithFirstSender: two Python senders, one after the
// other; `sonde -lu` hears the first only, and sends its stdin, written
// only once the second sender's datagram was ignored, to the first alone.
// sonde once answered the most recent sender, so a datagram from anywhere
// took the rest of stdin.
func TestUDPListenerStaysWithFirstSender(t *testing.T) {
	t.Parallel()
	stdin, w := io.Pipe()
	s := sonde(t, stdio{Stdin: stdin}, "-luv", "-q", "0", "127.0.0.1", "0")
	t.Cleanup(func() { w.Close() }) // before sonde's cleanup waits for its stdin copier
	_, port := s.ListenAddr(t)
	senders := python(t, stdio{}, "udp_two_senders.py", strconv.Itoa(port))
	s.WaitStderr(t, regexp.MustCompile(`ignored a datagram from 127\.0\.0\.1:\d+`))
	w.Write([]byte("answer from sonde\n"))
	w.Close()
	checkDelivered(t, senders, s, s.Stdout.Bytes, []byte("from the first sender\n"))
	sameBytes(t, "python stdout", senders.Stdout.Bytes(), []byte("first got: answer from sonde\nsecond got: nothing\n"))
}

// TestUDPPortUnreachable: a datagram to a port nobody listens on draws an
// ICMP port unreachable, which sonde reports as a closed port, exit 1.
func TestUDPPortUnreachable(t *testing.T) {
	t.Parallel()
	port := freePort(t, "udp4")
	s := sonde(t, stdio{Stdin: strings.NewReader("hi\n")}, "-u", "127.0.0.1", strconv.Itoa(port))
	s.ExpectExit(t, 1)
	sameBytes(t, "sonde stdout", s.Stdout.Bytes(), nil)
	stderr := s.Stderr.String()
	want := fmt.Sprintf("nothing is listening on UDP port %d", port)
	if !strings.Contains(stderr, want) || !strings.Contains(stderr, "port unreachable") {
		t.Errorf("sonde stderr should say %q and mention the ICMP port unreachable; got:\n%s", want, stderr)
	}
	if !strings.HasPrefix(stderr, "sonde: ") {
		t.Errorf("sonde stderr should start with \"sonde: \"; got:\n%s", stderr)
	}
}
