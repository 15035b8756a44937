// Package modes runs what sonde does once its command line is read: one
// mode per file (connect.go, listen.go, echo.go, relay.go, scan.go and
// scanhosts.go, check.go, ping.go, wait.go) over a few engines that move
// the bytes (stream.go, datagram.go, keep.go for listen -k, exec.go for
// -e and -c).
//
// A mode is a function of a context and a plain options struct (Options,
// EchoOptions, RelayOptions, ScanOptions, CheckOptions, PingOptions,
// WaitOptions) that holds typed values and io streams: addresses are transport.Endpoints
// (a port is a number, a proxy a *transport.Proxy), and the modes that
// listen share a Server part. Modes never import urfave/cli and never see
// a flag or parse a string the user typed: package main reads the command
// line and fills the options, so a mode can be run and tested without one.
//
// Output follows one rule. Data goes to the Stdout of the options (what a
// peer sent; the reports of scan, check, ping, wait and trace, which are
// what the user asked for, as text or --json lines), and nothing else
// does, so that it can be piped. Every message, from the -v lines (-z's
// too) to an error and its hint, goes through the *ui.UI of the options,
// which writes to stderr. A mode returns an error rather than printing it: main
// explains it and picks the exit status (*ExitStatus when the mode has
// already said why, *Interrupted after a signal).
//
// Shared code lives in files named for what it holds: session.go (the
// dispatch of every connect and listen session), activity.go (the idle
// clock behind -w and --idle-timeout), conn.go (peer names, half-close,
// timeouts, read buffers), report.go (counts, durations, JSON lines),
// probe.go (resolving for scan, ping and wait), probeplan.go (the probes
// of many hosts that scan and check share), lines.go (-C and -i) and
// tls.go.
package modes
