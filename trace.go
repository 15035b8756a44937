package main

import (
	"github.com/urfave/cli/v2"

	"github.com/sondeproject/sonde/modes"
	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

const traceUsageText = `sonde trace [flags] HOST PORT

Sends probes toward the service port itself with increasing TTL (TCP
SYNs; -u: UDP datagrams), every TTL at once, and lists each hop: its
address, the time of each probe and the ICMP answer. Ends with a verdict:
reached (the port answered: open or closed), stopped (silence after the
last hop that answered) or rejected (a hop refused, with the ICMP code).
Needs no root, but needs Linux. Exit 0 if the target answered, 1 if not.

EXAMPLES:
sonde trace example.com 443                  where do the packets to 443 stop?
sonde trace -n -m 15 10.0.0.5 5432           numeric, at most 15 hops
sonde trace -u 192.0.2.53 53                 the path of UDP datagrams
sonde trace --json db.internal 5432 | jq -c .`

// traceCommand is `sonde trace HOST PORT`.
func traceCommand(env runEnv) *cli.Command {
	return env.probeCommand("trace", "list the hops to HOST PORT and where packets to that port stop", traceUsageText, runTrace,
		reportFlags("one JSON object per hop, then a summary object, on stdout", "list every silent hop (without -v a silent tail takes one line)"),
		udpFlag("probe with UDP datagrams instead of TCP SYNs"),
		maxHopsFlag(modes.DefaultTraceMaxHops),
		probesFlag(modes.DefaultTraceProbes),
		waitFlag("wait `DUR` for the answer to each probe, and for each hop's name (default 1s)"),
	)
}

// runTrace reads the command line into modes.TraceOptions and traces.
// With --json, a command line that cannot be traced still ends the
// output with a summary object that says why.
func runTrace(env runEnv, c *cli.Context, u *ui.UI) error {
	o := &modes.TraceOptions{Network: "tcp", JSON: c.Bool("json"), Stdout: env.stdout, UI: u,
		MaxHops: c.Int("max-hops"), Probes: c.Int("probes")}
	if c.Bool("udp") {
		o.Network = "udp"
	}
	if err := readTraceArgs(c, o); err != nil {
		return modes.TraceFailed(o, err)
	}
	return modes.Trace(env.ctx, o)
}

func readTraceArgs(c *cli.Context, o *modes.TraceOptions) (err error) {
	if o.MaxHops < 1 || o.MaxHops > 255 {
		return usageError("bad -m %d: a TTL is 1-255", o.MaxHops)
	}
	if o.Probes < 1 || o.Probes > 10 {
		return usageError("bad --probes %d: must be 1-10", o.Probes)
	}
	if o.Target, err = addressOptions(c); err != nil {
		return err
	}
	if o.Timeout, err = positiveDuration(c, "wait"); err != nil {
		return err
	}
	missing := &transport.InputError{Msg: "missing host to trace", Hint: "e.g. sonde trace example.com 443 or sonde trace 192.0.2.1:22"}
	if c.NArg() == 0 {
		return missing
	}
	return probeTarget(c, &o.Target, o.Network, missing)
}
