package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/sondeproject/sonde/modes"
	"github.com/sondeproject/sonde/transport"
	"github.com/sondeproject/sonde/ui"
)

const waitUsageText = `sonde wait [flags] HOST PORT

Connects again and again, with backoff, until HOST PORT accepts a TCP
connection: exit 0 as soon as it does (with a line on stdout that says
so), 1 when --timeout passes first. A name is resolved afresh for each
attempt: it may appear late; each of its addresses is tried.

EXAMPLES:
sonde wait db 5432 && ./migrate              start once the database listens
sonde wait --timeout 2m -v api.internal 443  show each attempt
sonde wait --json 127.0.0.1 8080 | jq -c .   one object per attempt`

// waitCommand is `sonde wait HOST PORT`.
func waitCommand(env runEnv) *cli.Command {
	return env.probeCommand("wait", "wait until HOST PORT accepts a connection (or time out)", waitUsageText, runWait,
		reportFlags("one JSON object per attempt, then a summary object, on stdout", "report each attempt"),
		timeoutFlag(fmt.Sprintf("give up after `DUR` (default %s; 0: never)", modes.DefaultWaitTimeout)),
		intervalFlag(catConn, fmt.Sprintf("pause `DUR` after the first failed attempt (default %s); each pause is 1.5 times the last, up to 1s or -i", modes.DefaultWaitInterval)),
		waitFlag("give each connect `DUR` to succeed (default 1s)"),
	)
}

func runWait(env runEnv, c *cli.Context, u *ui.UI) error {
	o := &modes.WaitOptions{JSON: c.Bool("json"), Stdout: env.stdout, UI: u, Timeout: modes.DefaultWaitTimeout}
	if err := waitOptions(c, o); err != nil {
		return modes.WaitNotStarted(o, err)
	}
	return modes.Wait(env.ctx, o)
}

// waitOptions reads the rest of wait's command line into o.
func waitOptions(c *cli.Context, o *modes.WaitOptions) error {
	var err error
	if o.Target, err = addressOptions(c); err != nil {
		return err
	}
	if c.IsSet("timeout") {
		if o.Timeout, err = durationFlag(c, "timeout", false); err != nil {
			return err
		}
	}
	if o.Interval, err = positiveDuration(c, "interval"); err != nil {
		return err
	}
	if o.AttemptTimeout, err = positiveDuration(c, "wait"); err != nil {
		return err
	}
	// Without a host it would retry "cannot resolve" until --timeout.
	err = probeTarget(c, &o.Target, "tcp",
		&transport.InputError{Msg: "missing host to wait for", Hint: "e.g. sonde wait db 5432 or sonde wait 127.0.0.1:8080"})
	return err
}
