package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/sondeproject/sonde/internal/netchain"
)

// chains numbers the chains of this process, whose id makes them unique
// on the machine.
var chains atomic.Int64

// netchain NAME: build a chain of network namespaces (internal/netchain)
// named NAME-PID-N-client, ...; set $CLIENT_NS, $ROUTER1_NS, $ROUTER2_NS
// and $SERVER_NS to their names; delete them when the script ends. The
// addresses are netchain's constants. Scripts that use it are [root] only.
func cmdNetChain(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: netchain NAME")
	}
	c, err := netchain.New(fmt.Sprintf("%s-%d-%d", args[0], os.Getpid(), chains.Add(1)))
	ts.Check(err)
	ts.Defer(func() { ts.Check(c.Close()) })
	ts.Setenv("CLIENT_NS", c.Client)
	ts.Setenv("ROUTER1_NS", c.Router1)
	ts.Setenv("ROUTER2_NS", c.Router2)
	ts.Setenv("SERVER_NS", c.Server)
}

// publicbin VAR: copy the sonde of $PATH into a new directory that every
// user may read, and set $VAR to the copy, for runs as another user
// (setpriv --reuid=65534).
func cmdPublicBin(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: publicbin VAR")
	}
	src, err := exec.LookPath("sonde")
	ts.Check(err)
	dir, err := os.MkdirTemp("", "sondebin")
	ts.Check(err)
	ts.Defer(func() { os.RemoveAll(dir) })
	ts.Check(os.Chmod(dir, 0o755))
	in, err := os.Open(src)
	ts.Check(err)
	defer in.Close()
	dst := filepath.Join(dir, "sonde")
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	ts.Check(err)
	_, err = io.Copy(out, in)
	ts.Check(err)
	ts.Check(out.Close())
	ts.Setenv(args[0], dst)
}
