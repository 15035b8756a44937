//go:build unix

package transport

// A Unix listener never takes over a live socket, whichever way its path
// is written or wherever the socket was bound, never removes another
// user's socket file, and at exit removes only the socket it bound.

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sondeproject/sonde/internal/netnstest"
	"github.com/sondeproject/sonde/internal/porttest"
)

// binderVar makes the test binary a helper process that binds a Unix
// stream socket at the path it holds, says "ready" on stdout, and exits
// when its stdin closes, leaving the socket file behind as a killed
// process would.
const binderVar = "SONDE_TEST_UNIX_BINDER"

func TestMain(m *testing.M) {
	if path := os.Getenv(binderVar); path != "" {
		ln, err := net.Listen("unix", path)
		if err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		_ = ln // never closed: the file stays, as after a kill
		os.Stdout.WriteString("ready\n")
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// binder is a helper process bound to a Unix socket path.
type binder struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

// startBinder runs this test binary as a binder of path, under the
// command prefix wrap (unshare, setpriv), and waits until it is bound.
func startBinder(t *testing.T, path string, exe string, wrap ...string) *binder {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	args := append(wrap, exe, "-test.run=^$")
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = append(os.Environ(), binderVar+"="+path)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	b := &binder{cmd: cmd, stdin: stdin}
	t.Cleanup(b.stop)
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if line != "ready\n" {
		t.Fatalf("%s: binder not ready: %q, %v", strings.Join(args, " "), line, err)
	}
	return b
}

// stop ends the binder and waits for it; its socket file stays.
func (b *binder) stop() {
	b.stdin.Close()
	b.cmd.Wait()
}

// wantRefused checks that Listen on path failed without touching the
// socket file that was there (want).
func wantRefused(t *testing.T, path string, want os.FileInfo, errWanted func(error) bool) error {
	t.Helper()
	ln, err := Listen(context.Background(), Endpoint{Host: path}, ListenOptions{Network: "unix"})
	if err == nil {
		ln.Close()
		t.Fatalf("listen on %s: took over the socket file", path)
	}
	if !errWanted(err) {
		t.Errorf("listen on %s: %v", path, err)
	}
	if fi, serr := os.Lstat(path); serr != nil || !os.SameFile(fi, want) {
		t.Fatalf("listen on %s: the socket file was replaced or removed (%v)", path, serr)
	}
	return err
}

func inUse(err error) bool { return errors.Is(err, syscall.EADDRINUSE) }

func lstat(t *testing.T, path string) os.FileInfo {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi
}

// dialable checks that a client still reaches the listener on path.
func dialable(t *testing.T, path string) {
	t.Helper()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatalf("the live listener on %s no longer answers: %v", path, err)
	}
	c.Close()
}

func TestListenUnixRelativePathToLiveSocket(t *testing.T) {
	path := socketPath(t)
	live, err := net.Listen("unix", path) // listed as an absolute path
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	t.Chdir(filepath.Dir(path))
	wantRefused(t, "s.sock", lstat(t, path), inUse)
	wantRefused(t, "./s.sock", lstat(t, path), inUse)
	dialable(t, path)
}

func TestListenUnixThroughSymlinkedDir(t *testing.T) {
	path := socketPath(t)
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(filepath.Dir(path), link); err != nil {
		t.Fatal(err)
	}
	viaLink := filepath.Join(link, "s.sock")
	live, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	live.(*net.UnixListener).SetUnlinkOnClose(false)
	wantRefused(t, viaLink, lstat(t, path), inUse)
	dialable(t, path)

	// Once its listener is gone, the stale file is replaced through the
	// link, and removed again at exit.
	live.Close()
	ln, err := Listen(context.Background(), Endpoint{Host: viaLink}, ListenOptions{Network: "unix"})
	if err != nil {
		t.Fatalf("listen over a stale socket through a symlinked directory: %v", err)
	}
	dialable(t, path)
	ln.Close()
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after Close, the socket file is still there (%v)", err)
	}
}

func TestListenUnixLiveInOtherNetworkNamespace(t *testing.T) {
	netnstest.RequireRoot(t, "binds a socket from another network namespace (unshare -n)")
	netnstest.RequireProgram(t, "unshare")
	path := socketPath(t)
	startBinder(t, path, os.Args[0], "unshare", "-n", "--")
	if unixPathBound(path) {
		t.Fatal("the other namespace's socket is listed here: the test proves nothing")
	}
	wantRefused(t, path, lstat(t, path), inUse)
	dialable(t, path)
}

// worldDirs makes a world-writable directory for sockets (as /tmp is) and
// a copy of this test binary that another user may run.
func worldDirs(t *testing.T) (sockDir, exe string) {
	t.Helper()
	sockDir = porttest.SocketDir(t)
	binDir, err := os.MkdirTemp("", "sonde-bin") // t.TempDir's parent is private
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(binDir) })
	for dir, mode := range map[string]os.FileMode{sockDir: 0o777 | os.ModeSticky, binDir: 0o755} {
		if err := os.Chmod(dir, mode); err != nil {
			t.Fatal(err)
		}
	}
	self, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	exe = filepath.Join(binDir, "transport.test")
	if err := os.WriteFile(exe, self, 0o755); err != nil {
		t.Fatal(err)
	}
	return sockDir, exe
}

func TestListenUnixNeverRemovesAnotherUsersSocket(t *testing.T) {
	netnstest.RequireRoot(t, "binds a socket as user nobody (setpriv)")
	netnstest.RequireProgram(t, "setpriv")
	sockDir, exe := worldDirs(t)
	path := filepath.Join(sockDir, "s.sock")
	b := startBinder(t, path, exe, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--")
	fi := lstat(t, path)
	if uid := fi.Sys().(*syscall.Stat_t).Uid; uid != 65534 {
		t.Fatalf("the binder's socket belongs to uid %d, want 65534", uid)
	}
	wantRefused(t, path, fi, inUse)

	// Stale now, but not sonde's user's: left alone, and said why.
	b.stop()
	err := wantRefused(t, path, fi, func(err error) bool {
		var fe *ForeignSocketError
		return errors.As(err, &fe) && fe.UID == 65534
	})
	x := Explain(err)
	if !strings.Contains(x.Msg, "uid 65534") || x.Hint == "" {
		t.Errorf("Explain = %+v, want the owner named and a hint", x)
	}
}

// listenOn opens a Unix listener of network ("unix" or "unixgram") on
// path with Listen or ListenPacket.
func listenOn(t *testing.T, network, path string) io.Closer {
	t.Helper()
	var c io.Closer
	var err error
	if network == "unix" {
		c, err = Listen(context.Background(), Endpoint{Host: path}, ListenOptions{Network: network})
	} else {
		c, err = ListenPacket(context.Background(), Endpoint{Host: path}, ListenOptions{Network: network})
	}
	if err != nil {
		t.Fatalf("listen on %s (%s): %v", path, network, err)
	}
	return c
}

func TestListenUnixReplacesOnlyStaleSocket(t *testing.T) {
	for _, network := range []string{"unix", "unixgram"} {
		t.Run(network, func(t *testing.T) {
			path := socketPath(t)
			// A stale socket file: bound, then its socket closed and
			// the file left, as by a killed process.
			if network == "unix" {
				ln, err := net.Listen(network, path)
				if err != nil {
					t.Fatal(err)
				}
				ln.(*net.UnixListener).SetUnlinkOnClose(false)
				ln.Close()
			} else {
				pc, err := net.ListenPacket(network, path)
				if err != nil {
					t.Fatal(err)
				}
				pc.Close()
			}
			defer listenOn(t, network, path).Close()
			// (Not by inode: the new file may reuse the old one's.)
			d, err := net.Dial(network, path)
			if err != nil {
				t.Fatalf("the new listener does not answer on %s: %v", path, err)
			}
			d.Close()
		})
	}
}

// A listener whose socket file was replaced by another listener's leaves
// that one alone when it closes.
func TestListenUnixRemovesOnlyItsOwnSocket(t *testing.T) {
	for _, network := range []string{"unix", "unixgram"} {
		t.Run(network, func(t *testing.T) {
			path := socketPath(t)
			first := listenOn(t, network, path)
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			second := listenOn(t, network, path)
			defer second.Close()
			replaced := lstat(t, path)
			first.Close()
			if fi, err := os.Lstat(path); err != nil || !os.SameFile(fi, replaced) {
				t.Fatalf("closing the first listener removed the second one's socket file (%v)", err)
			}
			second.Close()
			if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("after Close, its own socket file is still there (%v)", err)
			}
		})
	}
}
