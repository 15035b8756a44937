package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/sondeproject/sonde/modes"
	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

const checkUsageText = `sonde check [flags] POLICY          POLICY: a file, or - for stdin

Each line of POLICY is a rule, HOST PORTS [tcp|udp] EXPECT:
  db.internal      5432          open       must accept connections
  10.0.0.0/28      22            blocked    closed or filtered
  ntp.internal     123     udp   open       a reply comes back
HOST is a name, an address, a CIDR block or a comma-separated list of
them; PORTS as for sonde scan; EXPECT is open, closed, filtered, blocked
(anything but open: what a firewall rule that forbids the port produces)
or, for UDP, open|filtered (a reply or silence). # starts a comment.
Every address of a name is probed; the port counts as open when one
accepts. Exit 0 when every rule holds, 1 when one fails, 2 for a bad rule.

EXAMPLES:
sonde check policy.txt                    after a firewall change: does it still hold?
sonde check --json policy.txt | jq -c 'select(.pass | not)'
echo 'db.internal 5432 open' | sonde check -`

// checkCommand is `sonde check POLICY`.
func checkCommand(env runEnv) *cli.Command {
	return env.probeCommand("check", "hold a reachability policy against the network: each rule PASS or FAIL", checkUsageText,
		runCheck,
		reportFlags("one JSON object per probe, then a summary object, on stdout",
			"say what is checked on stderr"),
		waitFlag("wait `DUR` for an answer to each probe of a port (default 1s)"),
		retriesFlag(modes.DefaultScanRetries),
		concurrencyFlag(modes.DefaultScanConcurrency),
		maxHostsFlag(modes.DefaultMaxHosts),
	)
}

// runCheck reads the command line and the policy into
// modes.CheckOptions and checks. With --json, a command line or policy
// that cannot be checked still ends the output with a summary object.
func runCheck(env runEnv, c *cli.Context, u *ui.UI) error {
	o := &modes.CheckOptions{JSON: c.Bool("json"), Stdout: env.stdout, UI: u}
	if err := readCheckArgs(env, c, o); err != nil {
		return modes.CheckFailed(o, err)
	}
	return modes.Check(env.ctx, o)
}

// readCheckArgs fills o from the flags and the POLICY argument, reading
// the policy.
func readCheckArgs(env runEnv, c *cli.Context, o *modes.CheckOptions) (err error) {
	if o.Via, err = addressOptions(c); err != nil {
		return err
	}
	if o.Timeout, o.Retries, o.Concurrency, err = probeSettings(c, modes.DefaultScanRetries); err != nil {
		return err
	}
	if o.MaxHosts, err = maxHostsValue(c); err != nil {
		return err
	}
	mode, err := colorMode(c)
	if err != nil {
		return err
	}
	// The report's colour follows the policy of messages, for stdout.
	o.Color = mode == "always" || mode == "auto" && os.Getenv("NO_COLOR") == "" && isTerminalWriter(env.stdout)

	const hint = "e.g. sonde check policy.txt, or sonde check - < policy.txt"
	switch args := c.Args().Slice(); len(args) {
	case 0:
		return &transport.InputError{Msg: "missing policy file", Hint: hint}
	case 1:
	default:
		return &transport.InputError{Msg: fmt.Sprintf("too many arguments: %q: check takes one policy file", args[1]), Hint: hint}
	}
	r, name, closeFile, err := openInput(c.Args().First(), "policy", env.stdin)
	if err != nil {
		return err
	}
	defer closeFile()
	o.Rules, err = transport.ParsePolicy(r, name)
	return err
}
