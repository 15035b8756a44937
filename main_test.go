package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the test binary act as the sonde command inside scripts.
// The wrapper sets the test-only ready-file hook from SONDE_READY, so a
// script can start a listener on port 0 and learn its address; with
// SONDE_STDERR it also copies stderr to that file, where a script can read
// what a background sonde has said before it ends (grepvar).
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"sonde": func() {
			testOnlyReadyFile = os.Getenv("SONDE_READY")
			var stderr io.Writer = os.Stderr
			if name := os.Getenv("SONDE_STDERR"); name != "" {
				f, err := os.Create(name)
				if err != nil {
					fmt.Fprintln(os.Stderr, "test wrapper:", err)
					os.Exit(1)
				}
				stderr = io.MultiWriter(os.Stderr, f)
			}
			os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, stderr))
		},
	})
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			// Unix socket paths must stay under ~100 bytes: give scripts a
			// short directory of their own.
			dir, err := os.MkdirTemp("", "sd")
			if err != nil {
				return err
			}
			env.Defer(func() { os.RemoveAll(dir) })
			env.Setenv("SOCKDIR", dir)
			env.Setenv("NO_COLOR", "")
			env.Setenv("UID", strconv.Itoa(os.Getuid())) // for --allow-uid
			return nil
		},
		Condition: rootCondition,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"waitready": cmdWaitReady,
			"freeport":  cmdFreePort,
			"randfile":  cmdRandFile,
			"sha256":    cmdSHA256,
			"fakeproxy": cmdFakeProxy,
			"grepvar":   cmdGrepVar,
			"waitfile":  cmdWaitFile,
			"holdconns": cmdHoldConns,
			"unixpeer":  cmdUnixPeer,
			"netchain":  cmdNetChain,
			"publicbin": cmdPublicBin,
		},
	})
}

// waitready FILE [PREFIX]: wait (at most 60 s) for a listener to write its
// address to FILE, then set $PREFIXADDR, $PREFIXHOST and $PREFIXPORT
// (PREFIX defaults to empty).
func cmdWaitReady(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: waitready FILE [PREFIX]")
	}
	prefix := ""
	if len(args) == 2 {
		prefix = args[1]
	}
	file := ts.MkAbs(args[0])
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, err := os.ReadFile(file)
		if err == nil && len(b) > 0 {
			addr := string(b)
			ts.Setenv(prefix+"ADDR", addr)
			if host, port, err := net.SplitHostPort(addr); err == nil {
				ts.Setenv(prefix+"HOST", host)
				ts.Setenv(prefix+"PORT", port)
			}
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("listener never wrote %s", file)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// freeport VAR: set $VAR to a TCP and UDP port on 127.0.0.1 that nothing
// listens on (it was free a moment ago).
func cmdFreePort(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: freeport VAR")
	}
	for range 50 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		ts.Check(err)
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		pc, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			continue
		}
		pc.Close()
		ts.Setenv(args[0], strconv.Itoa(port))
		return
	}
	ts.Fatalf("no free port found")
}

// randfile NAME SIZE: write SIZE pseudo-random bytes to NAME.
func cmdRandFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: randfile NAME SIZE")
	}
	size, err := strconv.Atoi(args[1])
	ts.Check(err)
	f, err := os.Create(ts.MkAbs(args[0]))
	ts.Check(err)
	defer f.Close()
	r := rand.NewChaCha8([32]byte{1, 2, 3})
	_, err = io.CopyN(f, r, int64(size))
	ts.Check(err)
}

// sha256 FILE VAR: set $VAR to the hex SHA-256 of FILE.
func cmdSHA256(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: sha256 FILE VAR")
	}
	b, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	sum := sha256.Sum256(b)
	ts.Setenv(args[1], hex.EncodeToString(sum[:]))
}

// grepvar FILE REGEXP VAR: set $VAR to the first group of REGEXP's first
// match in FILE (lines are matched with ^ and $, as stderr assertions are).
func cmdGrepVar(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: grepvar FILE REGEXP VAR")
	}
	re, err := regexp.Compile("(?m)" + args[1])
	ts.Check(err)
	b, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	m := re.FindSubmatch(b)
	if len(m) < 2 {
		ts.Fatalf("no match for %s (with a group) in %s:\n%s", args[1], args[0], b)
	}
	ts.Setenv(args[2], string(m[1]))
}

// waitfile FILE REGEXP: wait (at most 60 s) until FILE matches REGEXP
// (lines are matched with ^ and $), e.g. a line a background sonde wrote
// to its SONDE_STDERR file.
func cmdWaitFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: waitfile FILE REGEXP")
	}
	waitFile(ts, args[0], args[1])
}

func waitFile(ts *testscript.TestScript, file, pattern string) {
	re, err := regexp.Compile("(?m)" + pattern)
	ts.Check(err)
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, _ := os.ReadFile(ts.MkAbs(file))
		if re.Match(b) {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%s never matched %s:\n%s", file, pattern, b)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// holdconns ADDR N FILE REGEXP: open N TCP connections to ADDR and hold
// them until FILE matches REGEXP (as waitfile), then close them all.
func cmdHoldConns(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 4 {
		ts.Fatalf("usage: holdconns ADDR N FILE REGEXP")
	}
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range n {
		c, err := net.DialTimeout("tcp", args[0], 10*time.Second)
		ts.Check(err)
		conns = append(conns, c)
	}
	waitFile(ts, args[2], args[3])
}

// rootCondition is [root]: the script may make namespaces of its own
// (unshare(1), mount(8), ip(8) and iptables(8), as root on Linux).
// Where it may not, a script skips loudly ([!root] skip '...'), but
// under CI the condition fails the script instead, so CI cannot lose
// the coverage unnoticed.
func rootCondition(cond string) (bool, error) {
	if cond != "root" {
		return false, fmt.Errorf("unknown condition %q", cond)
	}
	reason := ""
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		reason = "not root on Linux"
	}
	for _, prog := range []string{"unshare", "mount", "ip", "iptables"} {
		if _, err := exec.LookPath(prog); err != nil && reason == "" {
			reason = prog + " is not installed"
		}
	}
	if reason != "" && os.Getenv("CI") != "" {
		return false, fmt.Errorf("a root-only script cannot run: %s (CI is set: it must run there)", reason)
	}
	return reason == "", nil
}
