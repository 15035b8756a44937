//go:build !windows

package modes

// The watchdog ends the programs of a sonde that was killed. Killed with
// SIGKILL, sonde can do nothing itself, and the kernel's parent-death
// signal reaches the program only, not what the program started (a shell
// command put in the background). So the first program sonde starts
// also starts a second copy of sonde, in a session of its own, whose
// only job is to read, from a pipe, the process groups of the programs
// that run ("+PGID" when one starts, "-PGID" once it is gone), and to
// kill what is left of them when the pipe ends: sonde's end, however it
// came, closes its end of the pipe.

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"syscall"
)

// watchdogArg0 is the watchdog's argv[0], which no shell gives sonde.
const watchdogArg0 = "sonde (watchdog of -e and -c programs)"

// The watchdog runs from init, before main: it is this package's and
// needs nothing of the command line.
func init() {
	if len(os.Args) == 1 && os.Args[0] == watchdogArg0 {
		runWatchdog(os.Stdin)
		os.Exit(0)
	}
}

// runWatchdog reads "+PGID" and "-PGID" lines until EOF, then kills the
// groups still listed.
func runWatchdog(f *os.File) {
	groups := map[int]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if len(line) < 2 {
			continue
		}
		pgid, err := strconv.Atoi(line[1:])
		if err != nil || pgid <= 1 {
			continue
		}
		switch line[0] {
		case '+':
			groups[pgid] = true
		case '-':
			delete(groups, pgid)
		}
	}
	for pgid := range groups {
		syscall.Kill(-pgid, syscall.SIGKILL)
	}
}

// programWatcher is sonde's end of the pipe to the watchdog.
type programWatcher struct {
	mu  sync.Mutex
	w   *os.File
	err error
}

var watchdog programWatcher

// programWatchdog starts the watchdog, once per sonde process. The error
// is returned to that first call only, so that it is reported once.
func programWatchdog() (*programWatcher, error) {
	watchdog.mu.Lock()
	defer watchdog.mu.Unlock()
	if watchdog.w != nil || watchdog.err != nil {
		return &watchdog, nil
	}
	watchdog.w, watchdog.err = startWatchdog()
	return &watchdog, watchdog.err
}

func startWatchdog() (*os.File, error) {
	self := "/proc/self/exe" // still sonde if its file was replaced
	if runtime.GOOS != "linux" {
		var err error
		if self, err = os.Executable(); err != nil {
			return nil, err
		}
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	cmd := &exec.Cmd{Path: self, Args: []string{watchdogArg0}, Stdin: r, Dir: "/",
		SysProcAttr: &syscall.SysProcAttr{Setsid: true}} // out of reach of Ctrl-C
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, err
	}
	// Never waited for: it lives as long as sonde does.
	cmd.Process.Release()
	return w, nil
}

func (p *programWatcher) add(pgid int)    { p.send('+', pgid) }
func (p *programWatcher) remove(pgid int) { p.send('-', pgid) }

func (p *programWatcher) send(op byte, pgid int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.w != nil {
		fmt.Fprintf(p.w, "%c%d\n", op, pgid) // a watchdog gone is no session's failure
	}
}
