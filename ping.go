package main

import (
	"github.com/urfave/cli/v2"

	"github.com/sondeproject/sonde/modes"
	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

const pingUsageText = `sonde ping [flags] HOST PORT

One probe every -i, one line per probe (seq=N time=… ms), then a
ping(8)-style summary: sent, ok, loss, min/avg/max/stddev, p50/p90/p99
and a histogram, on stdout. A name with several addresses is pinged where
it answers. Default probe: the TCP handshake. Exit 0 if any probe
succeeded.

EXAMPLES:
sonde ping example.com 443                   handshake times until Ctrl-C
sonde ping -c 20 -i 200ms 10.0.0.5 22        a latency baseline
sonde ping --udp -c 100 -i 10ms 10.0.0.5 7   loss, duplicates, reordering (UDP echo server)
sonde ping --echo -c 10 10.0.0.5 7           round trips over one TCP connection
sonde ping --json -c 5 example.com 443 | jq -s .`

// pingCommand is `sonde ping HOST PORT`.
func pingCommand(env runEnv) *cli.Command {
	return env.probeCommand("ping", "time TCP handshakes, UDP echoes or TCP echoes to HOST PORT", pingUsageText, runPing,
		reportFlags("one JSON object per probe, then a summary object, on stdout", "report the connection of --echo"),
		udpFlag("send numbered datagrams to a UDP echo server"),
		echoProbeFlag(),
		countFlag(),
		intervalFlag(catConn, "start a probe every `DUR` (default 1s)"),
		waitFlag("give each probe `DUR` to succeed (default 1s)"),
	)
}

func runPing(env runEnv, c *cli.Context, u *ui.UI) error {
	o := &modes.PingOptions{JSON: c.Bool("json"), Stdout: env.stdout, UI: u, Count: c.Int("count"), OnReady: writeReadyFile}
	if err := pingOptions(c, o); err != nil {
		return modes.PingNotStarted(o, err)
	}
	return modes.Ping(env.ctx, o)
}

// pingOptions reads the rest of ping's command line into o.
func pingOptions(c *cli.Context, o *modes.PingOptions) error {
	network := "tcp"
	switch {
	case c.Bool("udp") && c.Bool("echo"):
		return usageError("--udp and --echo cannot be combined")
	case c.Bool("udp"):
		o.Mode, network = modes.PingUDP, "udp"
	case c.Bool("echo"):
		o.Mode = modes.PingEcho
	}
	if c.IsSet("count") && o.Count < 1 {
		return usageError("bad -c %d: must be 1 or more (leave -c out to ping until interrupted)", o.Count)
	}
	var err error
	if o.Target, err = addressOptions(c); err != nil {
		return err
	}
	if o.Interval, err = positiveDuration(c, "interval"); err != nil {
		return err
	}
	if o.Timeout, err = positiveDuration(c, "wait"); err != nil {
		return err
	}
	err = probeTarget(c, &o.Target, network,
		&transport.InputError{Msg: "missing host to ping", Hint: "e.g. sonde ping example.com 443 or sonde ping 127.0.0.1:8080"})
	return err
}
