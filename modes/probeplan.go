package modes

// The engine that scan and check share: hosts, each with its addresses,
// ports and protocol, probed by one pool of workers, host × port
// interleaved so that a slow host does not hold the others up.

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/sondeproject/sonde/transport"
)

// probeHost is one host of a scan or check: what the report calls it,
// every address it is probed on, its ports, and the protocol.
type probeHost struct {
	name    string
	addrs   []netip.Addr
	ports   []int
	network string
	rule    int // check: the index of the rule the host is of
}

// probes is how many probes the host takes: each port on each address.
func (h *probeHost) probes() int { return len(h.ports) * len(h.addrs) }

// at is probe i of the host: port h.ports[i/len(addrs)] on address
// addrs[i%len(addrs)], so that the probes of one port are consecutive.
func (h *probeHost) at(i int) (port int, addr netip.Addr) {
	return h.ports[i/len(h.addrs)], h.addrs[i%len(h.addrs)]
}

// probeOutcome is what probe i of host (see probeHost.at) found, or why
// it could not be made.
type probeOutcome struct {
	host, i int
	res     transport.ProbeResult
	err     error
}

// hostGroup is how many hosts are interleaved at a time: enough that a
// host whose ports are all silent holds few of the workers, few enough
// that reports of the first hosts need not wait for the last.
const hostGroup = 256

// probeHosts probes every port of every host on each of its addresses,
// workers probes at most at once. Probes start group by group of
// hostGroup hosts; in a group, round r starts probe r of each host in
// turn, so the hosts share the workers whatever their number of ports.
// One host alone is probed in the order of probeHost.at. Probes start
// interval apart, if set, and each outcome is sent as it comes. The
// channel is closed once every probe is done, which happens soon after
// ctx ends.
//
// A few starters (one per CPU, no more than workers) make the probes: a
// TCP probe the kernel answers at once (loopback, a local refusal) is
// finished there and then, and only one that must wait gets a goroutine
// of its own. Each starter connects again on the socket of a refused
// probe (transport.ProbeSockets). A scan of closed loopback ports so
// costs two system calls a port and no scheduling.
func probeHosts(ctx context.Context, hosts []probeHost, workers int, interval time.Duration, popts transport.ProbeOptions) <-chan probeOutcome {
	type job struct{ host, i int }
	jobs := make(chan job, workers)
	outcomes := make(chan probeOutcome, workers)
	slots := make(chan struct{}, workers) // a slot for each probe under way, each holding a socket
	var wg sync.WaitGroup
	for range min(workers, runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var socks transport.ProbeSockets // the socket of the last refused probe, for the next
			defer socks.Close()
			for j := range jobs {
				h := &hosts[j.host]
				port, addr := h.at(j.i)
				target := netip.AddrPortFrom(addr, uint16(port))
				select {
				case slots <- struct{}{}:
				default: // every slot is taken: wait holding no socket
					socks.Close()
					slots <- struct{}{}
				}
				var wait func() (transport.ProbeResult, error)
				if h.network == "udp" {
					wait = func() (transport.ProbeResult, error) { return transport.ProbeUDP(ctx, target, popts) }
				} else if res, w, err := transport.BeginProbeTCPWith(ctx, target, popts, &socks); w == nil {
					<-slots
					outcomes <- probeOutcome{j.host, j.i, res, err}
					continue
				} else {
					wait = w
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					res, err := wait()
					<-slots
					outcomes <- probeOutcome{j.host, j.i, res, err}
				}()
			}
		}()
	}
	go func() {
		defer close(jobs)
		started := false
		for first := 0; first < len(hosts); first += hostGroup {
			group := hosts[first:min(first+hostGroup, len(hosts))]
			rounds := 0
			for _, h := range group {
				rounds = max(rounds, h.probes())
			}
			for r := range rounds {
				for k := range group {
					if r >= group[k].probes() {
						continue
					}
					if started && interval > 0 && !sleepCtx(ctx, interval) {
						return
					}
					started = true
					select {
					case jobs <- job{first + k, r}:
					case <-ctx.Done():
						return
					}
				}
			}
		}
	}()
	go func() {
		wg.Wait()
		close(outcomes)
	}()
	return outcomes
}

// runProbes probes hosts (see probeHosts) and hands each outcome to
// take as it comes, until a probe cannot be made or take fails: that
// first error cancels the probes still to come, and is returned once
// every probe has ended.
func runProbes(ctx context.Context, hosts []probeHost, workers int, interval time.Duration, popts transport.ProbeOptions,
	take func(probeOutcome) error) error {
	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var failed error
	for oc := range probeHosts(sctx, hosts, workers, interval, popts) {
		err := oc.err
		if err == nil && failed == nil {
			err = take(oc)
		}
		if err != nil && failed == nil {
			failed = err
			cancel(err)
		}
	}
	return failed
}

// endScan ends a scan whose probes ended with failed (nil when all were
// made), writing the summary, and returns what Scan returns: nil when a
// port is open (or the reader of the report went away, a quiet end, as
// for cat), an *ExitStatus 1 when none is, the cause when interrupted,
// failed when it failed.
func endScan(ctx context.Context, failed error, summary func(interrupted bool, failure error) error, open int) error {
	if errors.Is(failed, errStdoutClosed) {
		return nil
	}
	if cause := context.Cause(ctx); cause != nil {
		summary(true, cause)
		return cause
	}
	if failed != nil {
		summary(false, failed)
		return failed
	}
	if err := summary(false, nil); errors.Is(err, errStdoutClosed) {
		return nil
	} else if err != nil {
		return err
	}
	if open == 0 {
		return &ExitStatus{Code: 1}
	}
	return nil
}

// countProbes is the number of probes of hosts.
func countProbes(hosts []probeHost) int {
	n := 0
	for i := range hosts {
		n += hosts[i].probes()
	}
	return n
}

// addressing is how names become addresses: -4/-6, -n and the source
// address of -s, resolved once; each lookup takes at most timeout (-w;
// 0: no bound).
type addressing struct {
	family  int
	numeric bool
	source  string
	src     netip.Addr
	timeout time.Duration
}

// newAddressing resolves the source address, if any.
func newAddressing(ctx context.Context, e transport.Endpoint, timeout time.Duration) (*addressing, error) {
	a := &addressing{family: e.Family, numeric: e.Numeric, source: e.Source, timeout: timeout}
	if e.Source != "" {
		srcs, err := transport.ResolveWithin(ctx, e.Source, e, timeout)
		if err != nil {
			return nil, err
		}
		a.src = srcs[0]
	}
	return a, nil
}

// hostRequest is one item to expand into hosts: a name, an address or
// a block, with the ports and protocol to probe, where it was written
// (FILE:LINE; "" for the command line), and for check the rule it is of.
type hostRequest struct {
	spec    transport.HostSpec
	ports   []int
	network string
	where   string
	rule    int
}

// hostsOf expands req into hosts: a name or an address is one host, with
// every address of the name (those of the source's family, if a source
// is given); a block is one host per address, named by the address.
func (a *addressing) hostsOf(ctx context.Context, req hostRequest) ([]probeHost, error) {
	spec := req.spec
	if !spec.Block.IsValid() {
		addrs, _, err := resolveAll(ctx, spec.Host, a.source, a.family, a.numeric, a.timeout)
		if err != nil {
			return nil, err
		}
		return []probeHost{{name: spec.Host, addrs: addrs, ports: req.ports, network: req.network, rule: req.rule}}, nil
	}
	is4 := spec.Block.Addr().Is4()
	if a.family == 4 && !is4 || a.family == 6 && is4 {
		return nil, &transport.InputError{Msg: fmt.Sprintf("%s is not an IPv%d block (-%d was given)", spec, a.family, a.family),
			Hint: "drop -4/-6, or give a block of the matching family"}
	}
	if a.src.IsValid() && a.src.Is4() != is4 {
		return nil, &transport.InputError{
			Msg:  fmt.Sprintf("source address %s cannot reach %s: different address families", a.source, spec),
			Hint: "give -s an address of the same family as the block"}
	}
	hosts := make([]probeHost, 0, spec.Count())
	for addr := range spec.Addrs() {
		hosts = append(hosts, probeHost{name: addr.String(), addrs: []netip.Addr{addr}, ports: req.ports, network: req.network, rule: req.rule})
	}
	return hosts, nil
}

// resolveWorkers bounds the name lookups made at once.
const resolveWorkers = 16

// expandAll expands every request (see hostsOf), looking names up a few
// at a time, and returns the hosts in the order of reqs. The first
// error, in that order, is returned, naming the request's FILE:LINE.
func (a *addressing) expandAll(ctx context.Context, reqs []hostRequest) ([]probeHost, error) {
	expanded := make([][]probeHost, len(reqs))
	errs := make([]error, len(reqs))
	sem := make(chan struct{}, resolveWorkers)
	var wg sync.WaitGroup
	for i, req := range reqs {
		if req.spec.Block.IsValid() { // listing a block needs no lookup
			expanded[i], errs[i] = a.hostsOf(ctx, req)
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			expanded[i], errs[i] = a.hostsOf(ctx, req)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil && reqs[i].where != "" {
			return nil, &transport.LineError{Where: reqs[i].where, Err: err}
		} else if err != nil {
			return nil, err
		}
	}
	return slices.Concat(expanded...), nil
}
