//go:build unix

package main

import (
	"context"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sondeproject/sonde/internal/porttest"
)

// pingPeakRSS runs a fast UDP ping of count probes against echo (a UDP
// echo server: no port per probe, unlike handshakes) and
// returns the process's peak resident set (ru_maxrss, VmHWM), in KiB.
func pingPeakRSS(t *testing.T, echo netip.AddrPort, count int) int64 {
	t.Helper()
	bin, err := exec.LookPath("sonde")
	if err != nil {
		t.Fatalf("sonde not in PATH (TestMain sets it up): %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "ping", "--udp", "--json", "-c", strconv.Itoa(count), "-i", "50us", "-w", "100ms",
		echo.Addr().String(), strconv.Itoa(int(echo.Port())))
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = null, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("sonde ping -c %d: %v\n%s", count, err, stderr.String())
	}
	return cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss
}

// A long fast ping keeps its memory flat: once the runtime has warmed up,
// four times the probes may not cost much more peak memory (what varies
// is the garbage collector's timing). It grew by about 9 MiB from 20000
// to 80000 probes when ping kept every probe and every time.
func TestPingMemoryFlat(t *testing.T) {
	echo := porttest.UDPEcho(t, func(_ int, p []byte) [][]byte { return [][]byte{p} })
	const probes = 20000 // and 4 times as many
	small := pingPeakRSS(t, echo, probes)
	large := pingPeakRSS(t, echo, 4*probes)
	t.Logf("peak RSS: %d KiB after %d probes, %d KiB after %d", small, probes, large, 4*probes)
	if growth := large - small; growth > 4096 {
		t.Errorf("peak RSS grew by %d KiB from %d to %d probes at -i 50us (%d to %d KiB), want under 4 MiB: memory grows with the probes",
			growth, probes, 4*probes, small, large)
	}
}
