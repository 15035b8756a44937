// Command startloop is the clock of bench/startup.sh: it runs each
// command given ROUNDS times, interleaved (each round runs every command
// once, the first command moving by one each round, so that drift on a
// shared machine hits them all alike), timing each run from fork to
// wait, and prints one line per command with its median, p10 and p90 in
// milliseconds. A run that exits non-zero stops it: the figures are only
// worth something for runs that did their work.
//
//	go run ./bench/startloop -n 100 'hello=/tmp/hello' 'version=/tmp/sonde --version'
//
// Each argument is NAME=COMMAND, the command split at spaces; the runs'
// stdin, stdout and stderr are /dev/null.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"
)

type command struct {
	name  string
	argv  []string
	times []time.Duration
}

func main() {
	rounds := flag.Int("n", 100, "rounds")
	flag.Parse()
	if flag.NArg() == 0 || *rounds < 1 {
		fmt.Fprintln(os.Stderr, "usage: startloop [-n ROUNDS] NAME=COMMAND...")
		os.Exit(2)
	}
	var cmds []*command
	for _, a := range flag.Args() {
		name, line, ok := strings.Cut(a, "=")
		argv := strings.Fields(line)
		if !ok || name == "" || len(argv) == 0 {
			fmt.Fprintf(os.Stderr, "startloop: want NAME=COMMAND, not %q\n", a)
			os.Exit(2)
		}
		cmds = append(cmds, &command{name: name, argv: argv})
	}
	for r := range *rounds {
		for i := range cmds {
			c := cmds[(r+i)%len(cmds)]
			d, err := timeRun(c.argv)
			if err != nil {
				fmt.Fprintf(os.Stderr, "startloop: %s, round %d: %v\n", c.name, r+1, err)
				os.Exit(1)
			}
			c.times = append(c.times, d)
		}
	}
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	for _, c := range cmds {
		slices.Sort(c.times)
		n := len(c.times)
		fmt.Printf("%s median_ms=%.3f p10_ms=%.3f p90_ms=%.3f n=%d\n", c.name,
			ms(c.times[n/2]), ms(c.times[n/10]), ms(c.times[n*9/10]), n)
	}
}

// timeRun runs argv once, its streams on /dev/null, under a 10 s bound.
func timeRun(argv []string) (time.Duration, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.WaitDelay = time.Second
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	timer := time.AfterFunc(10*time.Second, func() { cmd.Process.Kill() })
	err := cmd.Wait()
	d := time.Since(t0)
	timer.Stop()
	return d, err
}
