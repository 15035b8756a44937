package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/sondeproject/sonde/modes"
	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

const scanUsageText = `sonde scan [flags] HOST PORTS
sonde scan [flags] HOSTS PORTS   many hosts: names, addresses, CIDR blocks, comma-separated
sonde scan [flags] --targets FILE [PORTS]
sonde -z [-v] HOST PORTS         netcat style: no output but the exit status (-v: every port)

PORTS: 22, 20-25, 22,80,443, 1-65535, service names (ssh,http), mixed.
Every address of HOST is scanned; a port is open when one accepts.
States: open (handshake done), closed (refused), filtered (no answer, or
ICMP unreachable/prohibited); with -u: open (a reply), closed (ICMP port
unreachable), open|filtered (silence). A silent port is probed again
(--retries, default 2) before it is called filtered or open|filtered.
Exit 0 if a port is open, 1 if none.

EXAMPLES:
sonde scan example.com 22,80,443           which of these are open
sonde scan -v 192.0.2.10 1-1024            every port, with its state
sonde scan -u 192.0.2.53 53,123            UDP: honest about silence
sonde scan --json 10.0.0.5 1-65535 | jq -c 'select(.state=="open")'
sonde scan db,10.0.0.0/28,[::1] 22,5432    many hosts, grouped by host in the report
sonde scan --targets hosts.txt 22          HOST, HOST PORTS or HOST:PORT a line
sonde -z db.internal 5432 && echo reachable  a firewall check in a script`

// scanCommand is `sonde scan HOST PORTS`.
func scanCommand(env runEnv) *cli.Command {
	return env.probeCommand("scan", "report which PORTS of HOST are open, closed or filtered", scanUsageText,
		func(env runEnv, c *cli.Context, u *ui.UI) error { return runScan(env, c, u, modes.ScanReport) },
		reportFlags("one JSON object per port, then a summary object, on stdout",
			"also list closed and filtered ports (-vv: times and reasons)"),
		udpFlag("scan UDP ports: an empty datagram to each"),
		waitFlag("wait `DUR` for an answer to each probe of a port (default 1s)"),
		retriesFlag(modes.DefaultScanRetries),
		intervalFlag(catConn, "pause `DUR` between the starts of two probes (default: none)"),
		concurrencyFlag(modes.DefaultScanConcurrency),
		targetsFlag(),
		maxHostsFlag(modes.DefaultMaxHosts),
	)
}

// runScan reads the command line into modes.ScanOptions and scans. With
// --json, a command line that cannot be scanned still ends the output
// with a summary object that says why.
func runScan(env runEnv, c *cli.Context, u *ui.UI, style modes.ScanStyle) error {
	o := &modes.ScanOptions{Style: style, Network: "tcp", JSON: c.Bool("json"), Stdout: env.stdout, UI: u}
	if c.Bool("udp") {
		o.Network = "udp"
	}
	if err := readScanArgs(env, c, o); err != nil {
		return modes.ScanFailed(o, err)
	}
	return modes.Scan(env.ctx, o)
}

// readScanArgs fills o from the flags and the HOST PORTS arguments (or
// --targets FILE [PORTS]).
func readScanArgs(env runEnv, c *cli.Context, o *modes.ScanOptions) (err error) {
	if o.Target, err = addressOptions(c); err != nil {
		return err
	}
	if o.Timeout, o.Retries, o.Concurrency, err = probeSettings(c, modes.DefaultScanRetries); err != nil {
		return err
	}
	if o.Interval, err = durationFlag(c, "interval", false); err != nil {
		return err
	}

	if c.IsSet("max-hosts") { // -z has no --max-hosts: the default
		if o.MaxHosts, err = maxHostsValue(c); err != nil {
			return err
		}
	}
	if c.IsSet("targets") {
		return readTargetsFile(env, c, o)
	}

	const hint = "e.g. sonde scan example.com 22,80,443 or sonde scan 192.0.2.1 1-1024"
	var ports string
	switch args := c.Args().Slice(); len(args) {
	case 0:
		return &transport.InputError{Msg: "missing host and ports", Hint: hint}
	case 1:
		t, err := transport.SplitHostPort(args[0])
		if err != nil {
			return &transport.InputError{Msg: fmt.Sprintf("missing ports: give HOST PORTS, not %q alone", args[0]), Hint: hint}
		}
		o.Target.Host, ports = t.Host, t.Port
	case 2:
		if strings.ContainsAny(args[0], ",/") {
			return readHostsList(args[0], args[1], o)
		}
		if o.Target.Host, err = transport.ParseHost(args[0]); err != nil {
			return err
		}
		ports = args[1]
	default:
		return &transport.InputError{Msg: fmt.Sprintf("too many arguments: %q", strings.Join(args[2:], " ")), Hint: hint}
	}
	if o.Target.Host == "" {
		return &transport.InputError{Msg: "missing host to scan", Hint: hint}
	}
	o.Ports, err = transport.ParsePorts(ports, o.Network)
	return err
}

// readHostsList reads HOSTS PORTS where HOSTS names many hosts (a list,
// a block): a scan of many hosts, whatever their number.
func readHostsList(hosts, ports string, o *modes.ScanOptions) (err error) {
	o.Many = true
	specs, err := transport.ParseHosts(hosts)
	if err != nil {
		return err
	}
	if o.Ports, err = transport.ParsePorts(ports, o.Network); err != nil {
		return err
	}
	for _, h := range specs {
		o.Targets = append(o.Targets, modes.ScanTarget{Host: h})
	}
	return nil
}

// readTargetsFile reads --targets FILE [PORTS]: the targets are the
// file's, PORTS the ports of its lines that give none.
func readTargetsFile(env runEnv, c *cli.Context, o *modes.ScanOptions) (err error) {
	o.Many = true
	const hint = "sonde scan --targets FILE [PORTS]: the hosts come from FILE"
	switch args := c.Args().Slice(); len(args) {
	case 0:
	case 1:
		if o.Ports, err = transport.ParsePorts(args[0], o.Network); err != nil {
			return err
		}
	default:
		return &transport.InputError{Msg: fmt.Sprintf("--targets takes the hosts from its file: %q is one argument too many", args[0]),
			Hint: hint}
	}
	r, name, closeFile, err := openInput(c.String("targets"), "--targets", env.stdin)
	if err != nil {
		return err
	}
	defer closeFile()
	lines, err := transport.ParseTargets(r, name, o.Network)
	if err != nil {
		return err
	}
	for _, l := range lines {
		if l.Ports == nil && o.Ports == nil {
			return &transport.InputError{Msg: l.Where + ": no ports: give them on the line (HOST PORTS, HOST:PORT) or after --targets FILE",
				Hint: hint}
		}
		for _, h := range l.Hosts {
			o.Targets = append(o.Targets, modes.ScanTarget{Host: h, Ports: l.Ports, Where: l.Where})
		}
	}
	return nil
}
