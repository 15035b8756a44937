//go:build linux

// Package faultnet builds a faulty network for tests: the test's own
// private network namespace (near, 10.77.0.1) and a second namespace (far,
// 10.77.0.2), joined by two TUN devices. Every IP packet from one side to
// the other passes through a forwarder in the test process, which delays
// it (with jitter, so packets are reordered), drops it or sends it twice,
// as `tc qdisc … netem` would. It is done in user space because kernels
// built without sch_netem (as on this project's CI machines) cannot run
// netem at all, and it works the same on those that can.
//
// The caller must already run in a private network namespace
// (netnstest.Private): faultnet creates devices and refuses to touch the
// machine's own network.
package faultnet

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/sondeproject/sonde/internal/netnstest"
)

// The addresses of the two sides.
var (
	Near = netip.MustParseAddr("10.77.0.1")
	Far  = netip.MustParseAddr("10.77.0.2")
)

// Faults are what the forwarder does to each packet, independently.
type Faults struct {
	Delay     time.Duration // one-way delay
	Jitter    time.Duration // each packet waits Delay ± up to Jitter (uniform), which reorders packets
	Loss      float64       // probability that a packet is dropped (1: a black hole)
	Duplicate float64       // probability that a packet is delivered twice
}

func (f Faults) String() string {
	return fmt.Sprintf("delay %s ± %s, loss %.1f%%, duplicate %.1f%%", f.Delay, f.Jitter, f.Loss*100, f.Duplicate*100)
}

// Stats count what the forwarder did, both directions together.
type Stats struct {
	Packets    int64 // packets read from either side
	Bytes      int64 // their bytes
	Dropped    int64
	Duplicated int64
	Reordered  int64 // packets delivered after a packet that was sent later
}

func (s Stats) String() string {
	return fmt.Sprintf("%d packets (%d bytes): %d dropped, %d duplicated, %d reordered",
		s.Packets, s.Bytes, s.Dropped, s.Duplicated, s.Reordered)
}

// Net is a faulty link between the near and the far namespace.
type Net struct {
	farNS string // /proc/PID/ns/net of the process that holds the far namespace
	far   *exec.Cmd
	near  *os.File // the TUN devices
	farT  *os.File

	mu      sync.Mutex
	faults  Faults
	rng     *rand.Rand
	stats   Stats
	seq     [2]uint64 // per direction: packets read so far
	maxSent [2]uint64 // per direction: highest sequence delivered
	closed  bool
	timers  sync.WaitGroup // deliveries scheduled and not yet done
	pumps   sync.WaitGroup
}

// New builds the link with the given faults and tears it down when the
// test ends. The seed of its random choices is logged.
func New(t *testing.T, f Faults) *Net {
	t.Helper()
	if !netnstest.Inside() {
		t.Fatal("faultnet.New outside a private network namespace (call netnstest.Private first)")
	}
	for _, prog := range []string{"ip", "nsenter", "unshare"} {
		netnstest.RequireProgram(t, prog)
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("SONDE_FAULT_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("faultnet: %s (seed %d; replay with SONDE_FAULT_SEED)", f, seed)
	n := &Net{faults: f, rng: rand.New(rand.NewPCG(seed, seed^0x5eed))}

	// The far namespace lives as long as a sleeping process that holds it;
	// the process dies with the test's thread at the latest.
	n.far = exec.Command("unshare", "-n", "--", "sleep", "3600")
	n.far.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := n.far.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.close)
	n.farNS = fmt.Sprintf("/proc/%d/ns/net", n.far.Process.Pid)
	self, _ := os.Readlink("/proc/self/ns/net")
	deadline := time.Now().Add(30 * time.Second)
	for {
		ns, err := os.Readlink(n.farNS)
		if err == nil && ns != self {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("unshare never entered its namespace (%v)", err)
		}
		time.Sleep(5 * time.Millisecond)
	}

	var err error
	if n.near, err = openTUN("sdnear"); err != nil {
		t.Fatal(err)
	}
	if n.farT, err = openTUN("sdfar"); err != nil {
		t.Fatal(err)
	}
	netnstest.Run(t, "ip", "link", "set", "sdfar", "netns", strconv.Itoa(n.far.Process.Pid))
	setup := func(run func(name string, args ...string), dev string, local, peer netip.Addr) {
		run("ip", "addr", "add", local.String()+"/32", "peer", peer.String()+"/32", "dev", dev)
		run("ip", "link", "set", dev, "up")
	}
	setup(func(name string, args ...string) { netnstest.Run(t, name, args...) }, "sdnear", Near, Far)
	setup(n.farRun(t), "sdfar", Far, Near)
	n.farRun(t)("ip", "link", "set", "lo", "up")

	n.pumps.Add(2)
	go n.pump(n.near, n.farT, 0)
	go n.pump(n.farT, n.near, 1)
	return n
}

// farRun returns a function that runs a setup command in the far namespace.
func (n *Net) farRun(t *testing.T) func(name string, args ...string) {
	return func(name string, args ...string) {
		t.Helper()
		netnstest.Run(t, "nsenter", append([]string{"--net=" + n.farNS, "--", name}, args...)...)
	}
}

// FarCommand is exec.CommandContext for a program that runs in the far
// namespace, where it reaches the near side at Near.
func (n *Net) FarCommand(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "nsenter", append([]string{"--net=" + n.farNS, "--", name}, args...)...)
}

// SetFaults changes the faults from now on.
func (n *Net) SetFaults(f Faults) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.faults = f
}

// Stats returns what the forwarder has done so far.
func (n *Net) Stats() Stats {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.stats
}

// pump forwards the packets read from one device to the other, through
// the faults, until the devices are closed.
func (n *Net) pump(from, to *os.File, dir int) {
	defer n.pumps.Done()
	buf := make([]byte, 65536)
	for {
		k, err := from.Read(buf)
		if err != nil {
			return
		}
		pkt := append([]byte(nil), buf[:k]...)
		n.mu.Lock()
		if n.closed {
			n.mu.Unlock()
			return
		}
		f := n.faults
		seq := n.seq[dir]
		n.seq[dir]++
		n.stats.Packets++
		n.stats.Bytes += int64(k)
		if n.rng.Float64() < f.Loss {
			n.stats.Dropped++
			n.mu.Unlock()
			continue
		}
		copies := 1
		if n.rng.Float64() < f.Duplicate {
			copies = 2
			n.stats.Duplicated++
		}
		delays := make([]time.Duration, copies)
		for i := range delays {
			delays[i] = f.Delay
			if f.Jitter > 0 {
				delays[i] += time.Duration(n.rng.Int64N(int64(2*f.Jitter)+1)) - f.Jitter
			}
		}
		n.timers.Add(copies)
		n.mu.Unlock()
		for _, d := range delays {
			if d <= 0 {
				n.deliver(to, pkt, dir, seq)
				continue
			}
			time.AfterFunc(d, func() { n.deliver(to, pkt, dir, seq) })
		}
	}
}

func (n *Net) deliver(to *os.File, pkt []byte, dir int, seq uint64) {
	defer n.timers.Done()
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return
	}
	if seq < n.maxSent[dir] {
		n.stats.Reordered++
	} else {
		n.maxSent[dir] = seq
	}
	n.mu.Unlock()
	to.Write(pkt) // a packet the kernel refuses is a lost packet
}

// close stops the forwarder, deletes the devices (closing a TUN device
// that is not persistent deletes it) and ends the far namespace.
func (n *Net) close() {
	n.mu.Lock()
	n.closed = true
	n.mu.Unlock()
	for _, f := range []*os.File{n.near, n.farT} {
		if f != nil {
			f.Close()
		}
	}
	n.pumps.Wait()
	n.timers.Wait()
	if n.far != nil && n.far.Process != nil {
		n.far.Process.Kill()
		n.far.Wait()
	}
}

// openTUN creates a TUN device (IP packets, no packet information header)
// and returns it ready for non-blocking reads and writes.
func openTUN(name string) (*os.File, error) {
	fd, err := syscall.Open("/dev/net/tun", syscall.O_RDWR|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open /dev/net/tun: %w (the kernel needs CONFIG_TUN)", err)
	}
	var ifr struct {
		name  [syscall.IFNAMSIZ]byte
		flags uint16
		_     [22]byte // the rest of struct ifreq
	}
	copy(ifr.name[:], name)
	ifr.flags = syscall.IFF_TUN | syscall.IFF_NO_PI
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.TUNSETIFF, uintptr(unsafe.Pointer(&ifr))); errno != 0 {
		syscall.Close(fd)
		return nil, fmt.Errorf("TUNSETIFF %s: %w", name, errno)
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), name), nil
}
