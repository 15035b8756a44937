//go:build linux

// Command udpfeed is the client side of the UDP benchmark (bench/udp.sh).
// It runs a UDP client command with its stdin on one end of a Unix
// SOCK_SEQPACKET socket pair and writes -n records of -size bytes into the
// other end: each read of the client's stdin returns exactly one record,
// so a client that keeps boundaries sends exactly -n datagrams, and one
// that merges reads shows it in the counts. (A pipe cannot do this: one
// read of a pipe may return several writes, or part of one.)
//
//	udpfeed -n 100000 -size 1400 -- sonde -u -q 0 127.0.0.1 PORT
//
// With -n 0 the command gets /dev/null on stdin (iperf3, which makes its
// own datagrams).
//
// The counts come from the kernel's UDP counters (/proc/net/snmp), so
// udpfeed must run in a network namespace of its own, where only the
// benchmark sends datagrams (bench/udp.sh runs it under `unshare -n`).
// The clock starts before the client is started and stops, once the
// client has exited, at the last change of the counters: when every
// datagram sent has been read by the receiver or dropped (InDatagrams +
// InErrors + NoPorts have caught up with OutDatagrams), or when they have
// stood still for 100 ms. It prints one line of key=value pairs on stdout:
//
//	inputs=100000 sent=100000 delivered=91234 dropped=8766 elapsed_s=0.950
//
// sent, delivered and dropped count datagrams; the exit status is the
// client's (1 if udpfeed itself fails, 2 on bad flags).
package main

import (
	"bufio"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type counters struct{ in, noPorts, inErrors, out int64 }

// readCounters reads the Udp lines of /proc/net/snmp.
func readCounters() (counters, error) {
	f, err := os.Open("/proc/net/snmp")
	if err != nil {
		return counters{}, err
	}
	defer f.Close()
	var names []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || fields[0] != "Udp:" {
			continue
		}
		if names == nil {
			names = fields
			continue
		}
		var c counters
		for i, v := range fields {
			n, _ := strconv.ParseInt(v, 10, 64)
			switch names[i] {
			case "InDatagrams":
				c.in = n
			case "NoPorts":
				c.noPorts = n
			case "InErrors":
				c.inErrors = n
			case "OutDatagrams":
				c.out = n
			}
		}
		return c, nil
	}
	return counters{}, fmt.Errorf("no Udp counters in /proc/net/snmp")
}

func main() {
	n := flag.Int("n", 100000, "records to feed")
	size := flag.Int("size", 1400, "bytes per record")
	deadline := flag.Duration("timeout", 60*time.Second, "give up after this long")
	flag.Parse()
	if flag.NArg() == 0 || *size < 8 || *n < 0 {
		fmt.Fprintln(os.Stderr, "usage: udpfeed [-n N] [-size BYTES] -- COMMAND [ARGS...]")
		os.Exit(2)
	}
	before, err := readCounters()
	if err != nil {
		fail(err)
	}
	cmd := exec.Command(flag.Arg(0), flag.Args()[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	var feed *os.File
	if *n > 0 {
		fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_SEQPACKET|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			fail(err)
		}
		feed = os.NewFile(uintptr(fds[0]), "feed")
		stdin := os.NewFile(uintptr(fds[1]), "stdin")
		defer stdin.Close()
		cmd.Stdin = stdin
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		fail(err)
	}
	if feed != nil {
		record := make([]byte, *size)
		for i := range record {
			record[i] = byte('a' + i%26)
		}
		for i := range *n {
			binary.BigEndian.PutUint64(record, uint64(i))
			if _, err := feed.Write(record); err != nil {
				fail(fmt.Errorf("feeding record %d: %w", i, err))
			}
		}
		feed.Close() // the client reads EOF
	}
	waitErr := cmd.Wait()
	// The clock stops at the last datagram read or dropped: once every
	// datagram sent is accounted for, or once the counts have not moved
	// for 100 ms (iperf3's server stops reading at the end of its test
	// and leaves what is still queued uncounted).
	var now, last counters
	var lastMoved time.Time
	for limit := start.Add(*deadline); ; time.Sleep(200 * time.Microsecond) {
		if now, err = readCounters(); err != nil {
			fail(err)
		}
		if now != last {
			last, lastMoved = now, time.Now()
		}
		accounted := now.in - before.in + now.inErrors - before.inErrors + now.noPorts - before.noPorts
		if accounted >= now.out-before.out || time.Since(lastMoved) > 100*time.Millisecond || time.Now().After(limit) {
			break
		}
	}
	elapsed := lastMoved.Sub(start)
	fmt.Printf("inputs=%d sent=%d delivered=%d dropped=%d elapsed_s=%.3f\n", *n, now.out-before.out, now.in-before.in,
		now.inErrors-before.inErrors+now.noPorts-before.noPorts, elapsed.Seconds())
	if waitErr != nil {
		if ee, ok := waitErr.(*exec.ExitError); ok {
			os.Exit(ee.ExitCode())
		}
		fail(waitErr)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "udpfeed:", err)
	os.Exit(1)
}
