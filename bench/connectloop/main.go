//go:build linux

// Command connectloop is the baseline of bench/ping.sh: the bare cost of
// a TCP handshake on this machine. It connects to ADDR N times, one
// connect at a time, every INTERVAL, with blocking connect(2) system
// calls on sockets made beforehand, timing only the connect call, and
// prints the median, p90 and mean in microseconds.
//
//	go run ./bench/connectloop -n 1000 -i 1ms 127.0.0.1:PORT
package main

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"syscall"
	"time"
)

func main() {
	n := flag.Int("n", 1000, "number of connects")
	interval := flag.Duration("i", time.Millisecond, "time between the starts of two connects")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: connectloop [-n N] [-i DUR] IPv4:PORT")
		os.Exit(2)
	}
	ap, err := netip.ParseAddrPort(flag.Arg(0))
	if err != nil || !ap.Addr().Is4() {
		fmt.Fprintln(os.Stderr, "connectloop: want an IPv4 address and port:", flag.Arg(0))
		os.Exit(2)
	}
	sa := &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	times := make([]time.Duration, 0, *n)
	start := time.Now()
	for i := range *n {
		time.Sleep(time.Until(start.Add(time.Duration(i) * *interval)))
		fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			fmt.Fprintln(os.Stderr, "connectloop:", err)
			os.Exit(1)
		}
		t0 := time.Now()
		err = syscall.Connect(fd, sa)
		d := time.Since(t0)
		syscall.Close(fd)
		if err != nil {
			fmt.Fprintln(os.Stderr, "connectloop: connect:", err)
			os.Exit(1)
		}
		times = append(times, d)
	}
	slices.Sort(times)
	var sum time.Duration
	for _, d := range times {
		sum += d
	}
	us := func(d time.Duration) float64 { return float64(d) / 1e3 }
	fmt.Printf("median_us=%.1f p90_us=%.1f mean_us=%.1f n=%d\n",
		us(times[len(times)/2]), us(times[len(times)*9/10]), us(sum/time.Duration(len(times))), len(times))
}
