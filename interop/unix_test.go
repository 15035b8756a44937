//go:build linux

package interop

import (
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sondeproject/sonde/internal/porttest"
)

// TestUnixStreamConnect: `sonde -U PATH` against socat listeners.
func TestUnixStreamConnect(t *testing.T) {
	t.Parallel()
	requirePeer(t, "socat")

	t.Run("socat-stdio", func(t *testing.T) {
		t.Parallel()
		const sent, reply = "hello over unix from sonde\n", "hello from socat\n"
		path := filepath.Join(porttest.SocketDir(t), "s")
		peer := start(t, stdio{Stdin: dataFile(t, []byte(reply))}, "socat", "-t", "10", "UNIX-LISTEN:"+path, "STDIO")
		waitUnix(t, peer, path, true)
		talk(t, peer, sent, reply, "-U", path)
	})

	t.Run("nc.openbsd-lU", func(t *testing.T) {
		t.Parallel()
		requirePeer(t, "nc.openbsd")
		const sent, reply = "hello over unix from sonde\n", "hello from nc.openbsd -lU\n"
		path := filepath.Join(porttest.SocketDir(t), "s")
		peer := start(t, stdio{Stdin: dataFile(t, []byte(reply))}, "nc.openbsd", "-lU", path)
		waitUnix(t, peer, path, true)
		talk(t, peer, sent, reply, "-U", path)
	})

	t.Run("socat-exec-cat-4MiB", func(t *testing.T) {
		t.Parallel()
		payload := randomPayload(t, 4<<20)
		path := filepath.Join(porttest.SocketDir(t), "s")
		peer := start(t, stdio{}, "socat", "-t", "10", "UNIX-LISTEN:"+path, "EXEC:cat")
		waitUnix(t, peer, path, true)
		out := newOutFile(t)
		s := sonde(t, stdio{Stdin: dataFile(t, payload), Stdout: out}, "-U", path)
		s.ExpectExit(t, 0)
		sameBytes(t, "sonde stdout (echoed by socat EXEC:cat)", out.Contents(t), payload)
	})
}

// TestUnixStreamListen: peers connect to `sonde -lU PATH`. sonde's stdout
// is exactly what they sent, and the socket file is gone once sonde exits
// (the listener removes the socket file it created).
func TestUnixStreamListen(t *testing.T) {
	t.Parallel()
	payload := randomPayload(t, 4<<20)

	senders := []peerCommand[string]{
		{"nc.openbsd", "nc.openbsd", func(path string) []string { return []string{"-N", "-U", path} }},
		// Both directions open, as the brief's `socat - UNIX-CONNECT:path`;
		// -t 10 keeps socat sending after sonde's early half-close.
		{"socat", "socat", func(path string) []string { return []string{"-t", "10", "-", "UNIX-CONNECT:" + path} }},
	}
	for _, snd := range senders {
		t.Run(snd.name+"-sends-4MiB", func(t *testing.T) {
			t.Parallel()
			requirePeer(t, snd.program)
			path := filepath.Join(porttest.SocketDir(t), "s")
			out := newOutFile(t)
			s := sonde(t, stdio{Stdout: out}, "-lU", path)
			waitUnix(t, s, path, true)
			peer := start(t, stdio{Stdin: dataFile(t, payload)}, snd.program, snd.args(path)...)
			checkDelivered(t, peer, s, func() []byte { return out.Contents(t) }, payload)
			if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("socket file %s still there after sonde -lU exited (Lstat: %v)", path, err)
			}
		})
	}

	t.Run("sonde-sends-4MiB-to-socat", func(t *testing.T) {
		t.Parallel()
		requirePeer(t, "socat")
		path := filepath.Join(porttest.SocketDir(t), "s")
		s := sonde(t, stdio{Stdin: dataFile(t, payload)}, "-lU", path)
		waitUnix(t, s, path, true)
		out := newOutFile(t)
		peer := start(t, stdio{Stdout: out}, "socat", "-u", "UNIX-CONNECT:"+path, "STDOUT")
		peer.ExpectExit(t, 0)
		s.ExpectExit(t, 0)
		sameBytes(t, "socat stdout (what sonde -lU sent)", out.Contents(t), payload)
	})
}

// TestUnixDatagram: `sonde -uU PATH` sends a datagram to an echo server and
// prints the answer (replies reach sonde through its autobound address);
// `sonde -luU PATH` receives from a sender.
func TestUnixDatagram(t *testing.T) {
	t.Parallel()

	t.Run("socat-recvfrom-cat", func(t *testing.T) {
		t.Parallel()
		requirePeer(t, "socat")
		path := filepath.Join(porttest.SocketDir(t), "s")
		peer := start(t, stdio{}, "socat", "UNIX-RECVFROM:"+path+",fork", "EXEC:cat")
		waitUnix(t, peer, path, false)
		sondeGets(t, "hi\n", "hi\n", "-uU", path)
	})

	t.Run("python-echo", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(porttest.SocketDir(t), "s")
		server := python(t, stdio{}, "dgram_echo.py", "unix", path)
		waitUnix(t, server, path, false)
		sondeGets(t, "hello unix datagram\n", "hello unix datagram\n", "-uU", path)
	})

	t.Run("python-client-gets-reply-from-sonde-listener", func(t *testing.T) {
		// A datagram listener sends its replies (stdin) to its first
		// named sender, for Unix datagrams as for UDP. -q 1: quit 1 s after
		// stdin ends, since a listener otherwise keeps receiving.
		t.Parallel()
		path := filepath.Join(porttest.SocketDir(t), "s")
		s := sonde(t, stdio{Stdin: strings.NewReader("answer from sonde")}, "-luU", path, "-q", "1")
		waitUnix(t, s, path, false)
		client := python(t, stdio{}, "unix_dgram_client.py", path, "question from python")
		checkDelivered(t, client, s, s.Stdout.Bytes, []byte("question from python"))
		sameBytes(t, "python client stdout", client.Stdout.Bytes(), []byte("reply: answer from sonde\n"))
	})

	t.Run("socat-sends-to-sonde-listener", func(t *testing.T) {
		t.Parallel()
		requirePeer(t, "socat")
		path := filepath.Join(porttest.SocketDir(t), "s")
		s := sonde(t, stdio{}, "-luU", path, "--replies", "1")
		waitUnix(t, s, path, false)
		peer := start(t, stdio{Stdin: strings.NewReader("datagram from socat\n")}, "socat", "-u", "STDIN", "UNIX-SENDTO:"+path)
		checkDelivered(t, peer, s, s.Stdout.Bytes, []byte("datagram from socat\n"))
		if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("socket file %s still there after sonde -luU exited (Lstat: %v)", path, err)
		}
	})
}

// TestUnixStaleAndLiveSocket: a socket file left by a listener that was
// killed (socat, SIGKILL: no chance to unlink it) is replaced by `sonde
// -lU`; a socket file with a live listener behind it is an "already in
// use" error, exit 1, and is left alone: sonde never removes a socket a
// live process serves.
func TestUnixStaleAndLiveSocket(t *testing.T) {
	t.Parallel()
	requirePeer(t, "socat")

	t.Run("stale", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(porttest.SocketDir(t), "s")
		dead := start(t, stdio{}, "socat", "UNIX-LISTEN:"+path, "STDIO")
		waitUnix(t, dead, path, true)
		if err := dead.Cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		<-dead.Done()
		if fi, err := os.Lstat(path); err != nil || fi.Mode()&fs.ModeSocket == 0 {
			t.Fatalf("killed socat should have left its socket file %s behind (Lstat: %v)", path, err)
		}
		s := sonde(t, stdio{}, "-lU", path)
		waitUnix(t, s, path, true)
		peer := start(t, stdio{Stdin: strings.NewReader("after the stale socket\n")}, "socat", "-u", "STDIN", "UNIX-CONNECT:"+path)
		checkDelivered(t, peer, s, s.Stdout.Bytes, []byte("after the stale socket\n"))
	})

	t.Run("live", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(porttest.SocketDir(t), "s")
		// fork: socat keeps listening even if sonde checks liveness by
		// connecting to it.
		live := start(t, stdio{}, "socat", "UNIX-LISTEN:"+path+",fork", "EXEC:cat")
		waitUnix(t, live, path, true)
		s := sonde(t, stdio{}, "-lU", path)
		s.ExpectExit(t, 1)
		if stderr := s.Stderr.String(); !strings.Contains(stderr, "already in use") {
			t.Errorf("sonde stderr should say the socket is already in use; got:\n%s", stderr)
		}
		if live.Exited() || !unixBound(path, true) {
			t.Errorf("socat's live socket %s was disturbed by sonde -lU", path)
		}
	})
}

// TestUnixAbstract: with -U, "@name" is a Linux abstract socket, the
// same namespace socat calls ABSTRACT-LISTEN / ABSTRACT-CONNECT.
func TestUnixAbstract(t *testing.T) {
	t.Parallel()
	requirePeer(t, "socat")
	// Abstract names live in a namespace shared by the whole machine, so
	// each test takes one no other run can be using.
	uniqueName := func(t *testing.T) string {
		return "sonde-interop-" + hex.EncodeToString(randomPayload(t, 8))
	}

	t.Run("sonde-connects-socat-abstract-listen", func(t *testing.T) {
		t.Parallel()
		name := uniqueName(t)
		const sent, reply = "to an abstract socket\n", "from socat ABSTRACT-LISTEN\n"
		peer := start(t, stdio{Stdin: dataFile(t, []byte(reply))}, "socat", "-t", "10", "ABSTRACT-LISTEN:"+name, "STDIO")
		waitUnix(t, peer, "@"+name, true)
		talk(t, peer, sent, reply, "-U", "@"+name)
	})

	t.Run("socat-abstract-connects-sonde", func(t *testing.T) {
		t.Parallel()
		name := uniqueName(t)
		payload := randomPayload(t, 1<<20)
		out := newOutFile(t)
		s := sonde(t, stdio{Stdout: out}, "-lU", "@"+name)
		waitUnix(t, s, "@"+name, true)
		peer := start(t, stdio{Stdin: dataFile(t, payload)}, "socat", "-u", "STDIN", "ABSTRACT-CONNECT:"+name)
		checkDelivered(t, peer, s, func() []byte { return out.Contents(t) }, payload)
	})
}
