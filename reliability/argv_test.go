//go:build linux

package reliability

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sondeproject/sonde/internal/netnstest"
	"github.com/sondeproject/sonde/internal/porttest"
	"github.com/sondeproject/sonde/internal/proctest"
)

// The argv sweep runs sonde with several hundred command lines generated
// from a seeded random source (SONDE_ARGV_SEED replays one): mode words,
// every flag of every command with good and junk values, in every
// spelling (--name value, --name=value, -x value, -xVALUE, clusters like
// -lvnp), hosts, ports, port lists, durations and junk words, in random
// order. Whatever the input, every run must:
//
//   - end with 0, 1 or 2; or, still running at argvDeadline (a listener,
//     a ping until interrupted), exit 143 after SIGTERM, within
//     argvTermGuard (longer is a hang);
//   - never print a Go panic trace ("panic:", "goroutine ", "runtime
//     error");
//   - exit 2 (a usage error) with main.report's form: "sonde: WHAT" and
//     at most "sonde: hint: WHAT TO DO" (argvCheckUsageError); with no
//     arguments at all, the short usage;
//   - exit 1 with a "sonde: " message as the last line of stderr, or with
//     nothing only where the exit status is the answer (-z, --json);
//   - print help, or a usage error, when -h or --help is on the line;
//   - keep each message on its line, even when it quotes a newline;
//   - leave no Unix socket file behind.
//
// Each run has a working directory of its own, so that relative paths
// (Unix sockets, --hex-file) land there, and a network namespace of its
// own (inside the test's private one), so that runs in parallel cannot
// meet. The programs -e and -c may start are chosen from a harmless list.

const (
	// argvVectors is how many command lines the sweep tries.
	argvVectors = 440
	// argvWorkers runs that many sonde processes at once.
	argvWorkers = 8
	// argvDeadline is when a run still alive is sent SIGTERM. It bounds the
	// sweep's network effects; it is not a performance assertion.
	argvDeadline = 3 * time.Second
	// argvTermGuard bounds the wait for the exit after SIGTERM: a guard
	// against a hang, generous for a loaded machine.
	argvTermGuard = 20 * time.Second
	// argvSeedEnv replays a sweep: SONDE_ARGV_SEED=<seed the log printed>.
	argvSeedEnv = "SONDE_ARGV_SEED"
)

func TestArgvSweep(t *testing.T) {
	if !netnstest.Private(t) {
		return
	}
	seed := rand.Uint64()
	if s := os.Getenv(argvSeedEnv); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("bad %s=%q: %v", argvSeedEnv, s, err)
		}
	}
	t.Logf("argv sweep seed %d (replay with %s=%d; a failing command line replays alone "+
		"in a fresh directory under the sweep's, in a network namespace with lo up)", seed, argvSeedEnv, seed)

	netnstest.RequireProgram(t, "unshare")
	netnstest.RequireProgram(t, "ip")
	root := argvRoot(t)
	gen := &argvGen{r: rand.New(rand.NewPCG(seed, 0x50bde))}
	vectors := make([][]string, argvVectors)
	vectors[0] = []string{} // no arguments at all: the short usage
	for i := 1; i < len(vectors); i++ {
		vectors[i] = gen.vector()
	}

	started := time.Now()
	results := make([]argvResult, len(vectors))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range argvWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				results[i] = argvRun(t, root, i, vectors[i])
			}
		}()
	}
	for i := range vectors {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	took := time.Since(started)

	codes := map[int]int{}
	termed, raced, failed := 0, 0, 0
	for i, res := range results {
		codes[res.code]++
		if res.termed {
			termed++
		}
		if res.raced {
			raced++
		}
		if len(res.problems) == 0 {
			continue
		}
		failed++
		t.Errorf("vector %d: %s\n  argv (Go): %#v\n  shell:     sonde %s\n  exit %d after %s%s\n  stderr:\n%s",
			i, strings.Join(res.problems, "; "), vectors[i], argvShellQuote(vectors[i]), res.code,
			res.elapsed.Round(time.Millisecond), argvTermNote(res), argvIndent(res.stderr))
	}
	var hist []string
	for _, c := range slices.Sorted(maps.Keys(codes)) {
		hist = append(hist, fmt.Sprintf("exit %d: %d", c, codes[c]))
	}
	t.Logf("argv sweep: %d vectors in %s with %d workers (seed %d); %s; %d needed SIGTERM "+
		"(%d of them were ending by themselves: run again without it, they end); %d failed",
		len(vectors), took.Round(time.Millisecond), argvWorkers, seed, strings.Join(hist, ", "), termed, raced, failed)
}

func argvTermNote(r argvResult) string {
	if r.termed {
		return " (SIGTERM sent at the deadline)"
	}
	return ""
}

// argvRoot makes the directory the runs work in: short (Unix socket
// paths are limited to about 100 bytes), holding the files that the
// generated --ca, --cert and --key name (as ../NAME from a run's own
// directory, so that a printed command line replays anywhere).
func argvRoot(t *testing.T) string {
	t.Helper()
	root := porttest.SocketDir(t)
	files := map[string]string{
		"junk.pem":  "this is not PEM\n",
		"empty.pem": "",
		"half.pem":  "-----BEGIN CERTIFICATE-----\nAAAA\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

type argvResult struct {
	code     int
	termed   bool           // SIGTERM was sent at the deadline
	raced    bool           // ... while sonde was ending by itself (see argvRun)
	signal   syscall.Signal // what killed it, if a signal did
	elapsed  time.Duration
	stderr   string
	problems []string
}

// argvQuietT keeps proctest from logging every one of the sweep's hundreds
// of process starts; failures print the command line themselves.
type argvQuietT struct{ *testing.T }

func (argvQuietT) Logf(string, ...any) {}

// argvRun runs sonde with argv in a fresh directory under root, sends
// SIGTERM at argvDeadline if it is still running, and checks the outcome.
func argvRun(t *testing.T, root string, i int, argv []string) argvResult {
	dir := filepath.Join(root, fmt.Sprintf("r%03d", i))
	p, err := argvStart(t, dir, argv)
	if err != nil {
		return argvResult{code: -1, problems: []string{err.Error()}}
	}
	start := time.Now()
	var res argvResult
	deadline := time.NewTimer(argvDeadline)
	defer deadline.Stop()
	select {
	case <-p.Done():
	case <-deadline.C:
		res.termed = true
		if !argvTerminate(p) {
			res.problems = append(res.problems, fmt.Sprintf("HANG: still running %s after SIGTERM (killed)", argvTermGuard))
		}
	}
	res.elapsed = time.Since(start)
	res.code = p.Cmd.ProcessState.ExitCode()
	res.stderr = p.Stderr.String()
	if ws, ok := p.Cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		res.signal = ws.Signal()
	}
	if len(res.problems) == 0 { // a hang says all there is to say
		res.problems = argvCheckOutcome(argv, res)
	}
	if res.termed && res.code != 143 && len(res.problems) == 0 {
		// Not a hang, and a well-formed end: was sonde finishing anyway
		// when SIGTERM came (a loaded machine makes anything slow)? Run it
		// again without a signal: it must end by itself. The same question
		// for a sonde that died of SIGTERM: the signal may have come
		// before sonde handled signals (see argvTerminate).
		switch {
		case argvRerun(t, dir+"-again", argv):
			res.raced = true
		case res.signal != 0:
			res.problems = append(res.problems, fmt.Sprintf("died of SIGTERM, want exit 143 (without a signal it is still running after %s)", argvTermGuard))
		default:
			res.problems = append(res.problems, fmt.Sprintf("exit %d after SIGTERM, want 143 (without a signal it is still running after %s)", res.code, argvTermGuard))
		}
	}
	if left := argvSocketFiles(dir); len(left) > 0 {
		res.problems = append(res.problems, fmt.Sprintf("socket files left behind: %q", left))
	}
	return res
}

// argvStart starts sonde with argv in dir, a new directory, and in a
// network namespace of its own, with lo up: runs in parallel cannot meet
// (a connect of one reaching the listener of another would make both
// outcomes depend on timing), and a printed command line replays alike.
// unshare and sh exec, so the process the test signals is sonde.
func argvStart(t *testing.T, dir string, argv []string) (*proctest.Proc, error) {
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, err
	}
	return proctest.StartCmd(argvQuietT{t}, proctest.Stdio{}, func(ctx context.Context) *exec.Cmd {
		cmd := exec.CommandContext(ctx, "unshare", append([]string{"-n", "--", "sh", "-c",
			`ip link set lo up && exec "$0" "$@"`, sondeBin}, argv...)...)
		cmd.Dir = dir
		return cmd
	}), nil
}

// argvRerun runs argv again, without any signal, and tells whether it ended
// by itself within argvTermGuard.
func argvRerun(t *testing.T, dir string, argv []string) bool {
	p, err := argvStart(t, dir, argv)
	if err != nil {
		return false
	}
	select {
	case <-p.Done():
		return true
	case <-time.After(argvTermGuard):
		p.Cmd.Process.Kill()
		<-p.Done()
		return false
	}
}

// argvTerminate sends SIGTERM to p once sonde handles signals, and waits for
// it to exit; false means it did not within argvTermGuard, and was killed.
//
// A process the loaded machine has not yet run as far as setting up its
// signal handling would die of SIGTERM, rightly: sonde ignores SIGPIPE
// (which /proc shows) just before it starts handling SIGINT and SIGTERM,
// so the signal waits for that, seen twice, 10 ms apart. On a machine
// loaded enough, sonde can still be between the two; argvRun then runs
// the command line again to tell.
func argvTerminate(p *proctest.Proc) bool {
	guard := time.After(argvTermGuard)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for seen := 0; seen < 2; {
		if argvIgnoresSIGPIPE(p.Cmd.Process.Pid) {
			seen++
		}
		select {
		case <-p.Done():
			return true
		case <-guard:
			seen = 2 // signal it anyway: it must die of it at least
		case <-tick.C:
		}
	}
	p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.Done():
		return true
	case <-guard:
		p.Cmd.Process.Kill()
		<-p.Done()
		return false
	}
}

// argvIgnoresSIGPIPE reads the ignored-signals mask of a process.
func argvIgnoresSIGPIPE(pid int) bool {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(status), "\n") {
		if mask, ok := strings.CutPrefix(line, "SigIgn:"); ok {
			m, err := strconv.ParseUint(strings.TrimSpace(mask), 16, 64)
			return err == nil && m&(1<<(uint(syscall.SIGPIPE)-1)) != 0
		}
	}
	return false
}

var argvANSI = regexp.MustCompile("\x1b\\[[0-9;]*[A-Za-z]")

// argvCheckOutcome applies the rules every run must follow.
func argvCheckOutcome(argv []string, res argvResult) []string {
	var problems []string
	stderr := res.stderr
	for _, bad := range []string{"panic:", "goroutine ", "runtime error"} {
		if strings.Contains(stderr, bad) {
			problems = append(problems, fmt.Sprintf("PANIC: stderr contains %q", bad))
		}
	}
	lines := strings.Split(strings.TrimRight(argvANSI.ReplaceAllString(stderr, ""), "\n"), "\n")
	if stderr == "" {
		lines = nil
	}
	for _, w := range argv {
		// ui writes a newline a message quotes as \n: one that got
		// through would start a line of its own (which ui would prefix
		// with "sonde: " too, so the split is seen only this way)
		if pieces := strings.Split(w, "\n"); len(pieces) > 1 && !slices.Contains(pieces, "") &&
			strings.Contains(stderr, strings.Join(pieces, "\nsonde: ")) {
			problems = append(problems, fmt.Sprintf("the newline in %q split a message across lines", w))
		}
	}
	if argvFlagsGiven(argv)["help"] && res.code != 0 && res.code != 2 {
		// Help anywhere on the line prints the help (or a usage error
		// comes first): it never fails on the network, nor waits.
		problems = append(problems, fmt.Sprintf("help asked for, and exit %d: want 0 (the help) or 2 (a usage error)", res.code))
	}
	switch code := res.code; {
	case code == 143 && res.termed:
	case code == 0:
	case code == 1:
		switch {
		case len(lines) == 0:
			// Only the nc-style scan (-z) and --json let the exit status
			// speak alone.
			if !argvQuietFailure(argv) {
				problems = append(problems, "exit 1 with nothing on stderr")
			}
		case !strings.HasPrefix(lines[len(lines)-1], "sonde: "):
			problems = append(problems, fmt.Sprintf("exit 1, but the last stderr line is not a sonde message: %q", lines[len(lines)-1]))
		}
	case code == 2:
		if len(argv) == 0 {
			// main.shortUsage, whole
			if !strings.HasPrefix(stderr, "usage: sonde [flags] HOST PORT ") || !strings.HasSuffix(stderr, "man sonde for the whole story\n") {
				problems = append(problems, "no arguments: want the short usage on stderr")
			}
			break
		}
		problems = append(problems, argvCheckUsageError(lines)...)
	case code == -1 && res.termed && res.signal == syscall.SIGTERM:
		// judged by argvRun
	case code == -1:
		problems = append(problems, fmt.Sprintf("killed by %v", res.signal))
	default:
		problems = append(problems, fmt.Sprintf("exit %d, want 0, 1 or 2", code))
	}
	return problems
}

// argvCheckUsageError checks main.report's form of a usage error: one line
// "sonde: WHAT", then at most one line "sonde: hint: WHAT TO DO", and
// nothing after them. Before them, only what a listener says as soon as
// its flags are read may come (argvUsagePreamble): a few usage errors
// (an address of the wrong family for -4/-6) are found only when the
// listener resolves its address, after the TLS certificate is announced.
func argvCheckUsageError(lines []string) []string {
	for len(lines) > 0 && slices.ContainsFunc(argvUsagePreamble, func(p string) bool { return strings.HasPrefix(lines[0], p) }) {
		lines = lines[1:]
	}
	switch {
	case len(lines) == 0:
		return []string{"exit 2 without an error message"}
	case len(lines) > 2:
		return []string{fmt.Sprintf("exit 2 with %d stderr lines, want the error and at most a hint", len(lines))}
	case !strings.HasPrefix(lines[0], "sonde: ") || strings.HasPrefix(lines[0], "sonde: hint: ") ||
		strings.HasPrefix(lines[0], "sonde: warning: "):
		return []string{fmt.Sprintf("exit 2, but the first stderr line is not a sonde error: %q", lines[0])}
	case strings.TrimSpace(strings.TrimPrefix(lines[0], "sonde: ")) == "":
		return []string{"exit 2 with an empty error message"}
	case len(lines) == 2 && !strings.HasPrefix(lines[1], "sonde: hint: "):
		return []string{fmt.Sprintf("exit 2, but the second stderr line is not a hint: %q", lines[1])}
	}
	return nil
}

// argvUsagePreamble are the lines a listener prints before it resolves
// its address (cli_tls.go, cmd_relay.go, cli_exec.go).
var argvUsagePreamble = []string{
	"sonde: TLS with an ephemeral self-signed certificate; SHA-256 fingerprint ",
	"sonde: clients can trust it with --pin sha256:",
	"sonde: warning: -e on a listener runs ",
	"sonde: warning: -c on a listener runs ",
}

// argvQuietFailure tells whether argv asks for a failure that only the
// exit status reports: -z without -v (netcat's zero-I/O scan), --json
// (the summary object on stdout says it), or sonde scan (its report,
// on stdout, says it).
func argvQuietFailure(argv []string) bool {
	f := argvFlagsGiven(argv)
	return f["zero"] && !f["verbose"] || f["json"] || len(argv) > 0 && argv[0] == "scan"
}

// argvFlagsGiven reads argv the way sonde's normalizeArgs does (flags
// anywhere before "--", clusters, attached values) and returns the long
// names of the flags given. A flag given as --name=false is not given.
func argvFlagsGiven(argv []string) map[string]bool {
	longName := map[string]string{"h": "help", "e": "exec", "c": "sh-exec"}
	takesValue := map[string]bool{"exec": true, "sh-exec": true}
	for _, f := range argvEveryFlag {
		if f.short != "" {
			longName[f.short] = f.long
		}
		takesValue[f.long] = f.values != nil
	}
	given := map[string]bool{}
	for i := 0; i < len(argv); i++ {
		a := argv[i]
		switch {
		case a == "--":
			return given
		case strings.HasPrefix(a, "--"):
			name, value, hasValue := strings.Cut(a[2:], "=")
			if len(name) == 1 && longName[name] != "" {
				name = longName[name] // --v is -v
			}
			if on, err := strconv.ParseBool(value); !hasValue || takesValue[name] || err == nil && on {
				given[name] = true
			}
			if takesValue[name] && !hasValue {
				i++
			}
		case len(a) > 1 && a[0] == '-':
			for j, c := range []rune(a[1:]) {
				name := string(c)
				if longName[name] != "" {
					name = longName[name]
				}
				given[name] = true
				if takesValue[name] {
					if j == len([]rune(a[1:]))-1 {
						i++ // the value is the next word
					}
					break
				}
			}
		}
	}
	return given
}

// argvSocketFiles lists the Unix socket files in dir and its subdirectories.
func argvSocketFiles(dir string) []string {
	var socks []string
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && d.Type()&os.ModeSocket != 0 {
			socks = append(socks, path)
		}
		return nil
	})
	return socks
}

func argvShellQuote(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

func argvIndent(s string) string {
	if s == "" {
		return "    (empty)"
	}
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}

// argvGen generates command lines. What a generated command line can
// hand to -e or -c (a program sonde runs once connected) is harmless: -e
// and -c are only ever followed by a value of argvSafeExec, or by a count
// (ping's -c, which is -c of the other modes when the mode word is out of
// place); clusters never hold e or c; and a flag left without its value
// is always the last word.
type argvGen struct{ r *rand.Rand }

func (g *argvGen) pick(list []string) string { return list[g.r.IntN(len(list))] }
func (g *argvGen) chance(p float64) bool     { return g.r.Float64() < p }

var (
	argvModes = []string{"", "", "", "", "connect", "listen", "echo", "scan", "wait", "ping", "relay", "completion"}

	argvRepeat = func(n int, s string) string { return strings.Repeat(s, n) }

	argvGoodHosts = []string{"127.0.0.1", "127.0.0.1", "::1", "[::1]", "localhost", "localhost", "127.0.0.2",
		"0.0.0.0", "::", "::ffff:127.0.0.1", "localhost."}
	argvJunkHosts = []string{"127.0.0.1:80", "[::1]:80", "127.1", "0x7f.1", "",
		"300.1.1.1", "1.2.3.4.5", "[::1", "::1]", "[]", "a b", "%", "fe80::1%lo", "fe80::1%nosuchif0",
		"::1%", "-", ".", "..", "*", "host:80:90", "[::1]:", ":", "example.invalid", "no-such-host.invalid",
		"@sonde-sweep", "s.sock", "./s.sock", "no/such/dir/s.sock", "a\nb", "\t", "tab\there",
		argvRepeat(300, "a"), argvRepeat(150, "x.") + "com", argvRepeat(40, "9"), argvRepeat(200, "é"), argvRepeat(2000, "z"),
		"ünïcødé.example", "☃", "例え.テスト", "\u200b", "\u202eevil", "😀:80"}
	argvSockPaths = []string{"s.sock", "./s.sock", "@sonde-sweep", "d.sock", "no/such/dir/s.sock", "",
		argvRepeat(120, "p"), ".", "new\nline.sock"}

	argvGoodPorts = []string{"0", "1", "7", "80", "443", "9999", "65535", "http", "https", "tcpmux", "http-alt"}
	argvJunkPorts = []string{"65536", "-1", "nosuchservice",
		"1-10", "10-1", "1-", "-5", "1,2,3", "22,80,443", "1-65535", "1-1", "80,", ",", "0x50", "1e3", "08",
		" 80", "80 ", argvRepeat(20, "9"), "", "७", "١٢", "65535-65536", "0-1", "http,1-3", argvRepeat(500, "1,")}
	argvGoodPortLists = []string{"1", "80", "1-10", "22,80,443", "http", "1-1", "http,1-3", "1-300", "7,9,13"}

	argvGoodDurations = []string{"1", "0", "1ms", "250ms", "2s", "1h", "0.5", "1e9", "1m", "-1"}
	argvJunkDurations = []string{"abc", argvRepeat(20, "9"), "-1s", "", "1 s", "1x", "1e-9", "NaN", "Inf", "-0",
		"9223372036854775807", "1e308", "-1h", "0x10", "1_000", "0.001"}

	argvGoodInts = []string{"1", "2", "5", "0"}
	argvJunkInts = []string{"-1", "abc", argvRepeat(20, "9"), "1.5", "", "0x10", "1e3", "-0"}

	// argvSafeExec are the programs -e and -c may run: harmless whatever
	// connects, and most of them not even installed.
	argvSafeExec = []string{"cat", "true", "false", "/bin/true", "", " ", "no-such-program-sweep",
		"no-such-program-sweep --flag", "/nonexistent/prog", "a b", "exit 3", "%", "☃"}

	argvGoodRelayAddrs = []string{":0", "127.0.0.1:0", "[::1]:0", "0", "localhost:0", "127.0.0.1:1", "[::1]:1",
		"localhost:http", ":80"}
	argvJunkRelayAddrs = []string{"127.0.0.1", "::1", "[::1", ":", "", "a b:1", "127.0.0.1:65536",
		"127.0.0.1:-1", "300.1.1.1:80", "example.invalid:80", argvRepeat(300, "a") + ":1", "☃:1"}

	argvGoodCIDRs = []string{"127.0.0.0/8", "::1/128", "127.0.0.1", "localhost", "0.0.0.0/0", "::/0", "fe80::/10"}
	argvJunkCIDRs = []string{"10.0.0.0/33", "a b", "", "/8", "127.0.0.1/", "example.invalid", "1.2.3.4/-1", ","}

	argvJunkWords = []string{"", "-", "--", "---", "-=", "--=x", "x", "foo", "%", "a b", "\n", "☃",
		argvRepeat(400, "j"), "=", ":", "::", "[", "]", "{}", "?", "\\", "'", "\""}

	argvJunkFlags = []string{"--bogus", "-y", "-Z", "-?", "--verbose=false", "--help=x", "--=", "---x",
		"-vvvvvvvv", "--listen=maybe", "-lvnpx", "-" + argvRepeat(50, "v"), "--v", "--l", "--4", "-é"}

	argvShells = []string{"bash", "zsh", "fish", "bash", "", "powershell", "BASH", "bash zsh"}
)

// pickGood takes a good value four times in five, else a junk one.
func (g *argvGen) pickGood(good, junk []string) string {
	if g.chance(0.8) {
		return g.pick(good)
	}
	return g.pick(junk)
}

func (g *argvGen) host() string     { return g.pickGood(argvGoodHosts, argvJunkHosts) }
func (g *argvGen) port() string     { return g.pickGood(argvGoodPorts, argvJunkPorts) }
func (g *argvGen) duration() string { return g.pickGood(argvGoodDurations, argvJunkDurations) }

func argvOneOf(good, junk []string) func(*argvGen) string {
	return func(g *argvGen) string { return g.pickGood(good, junk) }
}

var (
	argvHostValue     = (*argvGen).host
	argvPortValue     = (*argvGen).port
	argvDurationValue = (*argvGen).duration
	argvIntValue      = argvOneOf(argvGoodInts, argvJunkInts)
	argvFileValue     = argvOneOf([]string{"../junk.pem", "../empty.pem", "../half.pem", "/dev/null"}, []string{"no-such.pem", "", ".", "no\nsuch.pem"})
)

// argvFlag is a flag of some sonde command, with how to make its values.
type argvFlag struct {
	long, short string
	values      func(g *argvGen) string // nil: a boolean flag
}

// Every flag of the command line, by the command that has it (sonde
// --help and sonde MODE --help list them).
var (
	argvAddrFlags = []argvFlag{{"4", "", nil}, {"6", "", nil}, {"numeric", "n", nil}}
	argvTLSFlags  = []argvFlag{
		{"tls", "", nil}, {"ssl", "", nil}, {"insecure", "", nil},
		{"ca", "", argvFileValue}, {"cert", "", argvFileValue}, {"key", "", argvFileValue},
		{"sni", "", argvOneOf([]string{"localhost", "example.com"}, []string{"", "a b", argvRepeat(300, "s")})},
		{"alpn", "", argvOneOf([]string{"h2", "h2,http/1.1"}, []string{"", ",", argvRepeat(300, "a")})},
		{"pin", "", argvOneOf([]string{"sha256:" + argvRepeat(32, "ab")}, []string{"sha256:", "sha256:xyz", "abc", "", "sha256:" + argvRepeat(31, "ab")})},
	}
	argvOutputFlags = []argvFlag{
		{"verbose", "v", nil}, {"verbose", "v", nil}, {"hex", "", nil},
		{"hex-file", "", argvOneOf([]string{"dump.hex"}, []string{"", "no/such/dir/dump.hex", ".", "../junk.pem-dump", "no/such\ndir.hex"})},
		{"color", "", argvOneOf([]string{"auto", "always", "never"}, []string{"", "sometimes", "ALWAYS"})},
	}
	argvAccessFlags = []argvFlag{{"allow", "", argvOneOf(argvGoodCIDRs, argvJunkCIDRs)}, {"deny", "", argvOneOf(argvGoodCIDRs, argvJunkCIDRs)}}

	argvMainFlags = slices.Concat(argvAddrFlags, argvTLSFlags, argvOutputFlags, argvAccessFlags, []argvFlag{
		{"listen", "l", nil}, {"udp", "u", nil}, {"unix", "U", nil}, {"keep-open", "k", nil}, {"zero", "z", nil},
		{"port", "p", argvPortValue}, {"source", "s", argvHostValue},
		{"wait", "w", argvDurationValue}, {"quit", "q", argvDurationValue},
		{"shutdown", "N", nil}, {"no-shutdown", "", nil}, {"max-conns", "", argvIntValue},
		{"no-stdin", "d", nil}, {"crlf", "C", nil}, {"interval", "i", argvDurationValue},
		{"send-only", "", nil}, {"recv-only", "", nil}, {"replies", "", argvIntValue}, {"progress", "", nil},
		{"proxy", "x", argvOneOf([]string{"127.0.0.1", "127.0.0.1:1080", "[::1]:1080", "localhost:3128"},
			[]string{"", "a b", "300.1.1.1", "127.0.0.1:0", "127.0.0.1:65536"})},
		{"proxy-type", "X", argvOneOf([]string{"5", "4", "connect"}, []string{"", "6", "http", "socks5"})},
		{"proxy-auth", "", argvOneOf([]string{"user:pass", "user"}, []string{"", ":", "user:", argvRepeat(300, "u") + ":p"})},
		{"help", "h", nil}, {"version", "", nil},
	})
	argvEchoFlags = slices.Concat(argvAddrFlags, argvTLSFlags, argvOutputFlags, argvAccessFlags, []argvFlag{
		{"udp", "u", nil}, {"unix", "U", nil}, {"port", "p", argvPortValue}, {"source", "s", argvHostValue},
		{"max-conns", "", argvIntValue}, {"idle-timeout", "", argvDurationValue}, {"delay", "", argvDurationValue},
	})
	argvProbeFlags = slices.Concat(argvAddrFlags, []argvFlag{
		{"source", "s", argvHostValue}, {"verbose", "v", nil}, {"json", "", nil}, {"wait", "w", argvDurationValue},
		{"interval", "i", argvDurationValue}, {"color", "", argvOneOf([]string{"auto", "never"}, []string{"x"})},
	})
	argvScanFlags  = slices.Concat(argvProbeFlags, []argvFlag{{"udp", "u", nil}, {"concurrency", "", argvIntValue}})
	argvPingFlags  = slices.Concat(argvProbeFlags, []argvFlag{{"udp", "u", nil}, {"echo", "", nil}, {"count", "", argvIntValue}, {"count", "", argvIntValue}})
	argvWaitFlags  = slices.Concat(argvProbeFlags, []argvFlag{{"timeout", "", argvDurationValue}, {"timeout", "", argvDurationValue}})
	argvRelayFlags = slices.Concat(argvAddrFlags, argvTLSFlags, argvOutputFlags, argvAccessFlags, []argvFlag{
		{"udp", "u", nil}, {"unix", "U", nil}, {"wait", "w", argvDurationValue}, {"idle-timeout", "", argvDurationValue},
		{"max-conns", "", argvIntValue}, {"tls-listen", "", nil},
	})
	argvFlagsByMode = map[string][]argvFlag{"": argvMainFlags, "connect": argvMainFlags, "listen": argvMainFlags,
		"echo": argvEchoFlags, "scan": argvScanFlags, "ping": argvPingFlags, "wait": argvWaitFlags, "relay": argvRelayFlags,
		"completion": {{"help", "h", nil}}}
	argvEveryFlag = slices.Concat(argvMainFlags, argvEchoFlags, argvScanFlags, argvPingFlags, argvWaitFlags, argvRelayFlags)
)

// argvClusterBools are the boolean short flags a cluster (-lvnp) may hold;
// clusterValued those that may end one, taking a value; neither holds e
// or c, whose values are programs.
var (
	argvClusterBools  = []string{"l", "u", "U", "k", "z", "n", "N", "d", "C", "v", "4", "6", "v", "l", "n"}
	argvClusterValued = map[string]func(*argvGen) string{
		"p": argvPortValue, "s": argvHostValue, "w": argvDurationValue, "q": argvDurationValue, "i": argvDurationValue,
	}
)

// vector generates one command line.
func (g *argvGen) vector() []string {
	mode := g.pick(argvModes)
	var flags [][]string // each flag with its value, kept together
	for range g.r.IntN(4) {
		flags = append(flags, g.flag(mode))
	}
	if mode != "echo" && mode != "completion" && g.chance(0.5) { // a short -w keeps most network effects brief
		flags = append(flags, []string{"-w", g.pick([]string{"1", "200ms", "1ms", "0.5"})})
	}
	unix := false
	for _, f := range flags {
		unix = unix || f[0] == "-U" || f[0] == "--unix"
	}
	pos := g.positionals(mode, unix)

	// Interleave flags and positionals, as getopt permutes them.
	var out []string
	if mode != "" && g.chance(0.95) {
		out = append(out, mode)
	} else if mode != "" {
		pos = append(pos, mode) // a mode word out of place: a host or junk
	}
	for len(flags) > 0 || len(pos) > 0 {
		if len(pos) == 0 || len(flags) > 0 && g.chance(0.5) {
			out = append(out, flags[0]...)
			flags = flags[1:]
		} else {
			out = append(out, pos[0])
			pos = pos[1:]
		}
	}
	if g.chance(0.03) { // a flag that needs a value, given none
		out = append(out, g.pick([]string{"-w", "-p", "--hex-file", "--exec", "-s", "--color", "-e", "-c"}))
	}
	return out
}

// flag generates one flag, in one of the spellings sonde accepts (or a
// junk one): mostly one of the mode's own flags, sometimes any.
func (g *argvGen) flag(mode string) []string {
	switch {
	case g.chance(0.05):
		return []string{g.pick(argvJunkFlags)}
	case (mode == "" || mode == "connect" || mode == "listen") && g.chance(0.12):
		return g.cluster()
	case mode == "ping" && g.chance(0.2):
		return []string{"-c", argvIntValue(g)} // ping's -c is a count
	case (mode == "" || mode == "connect" || mode == "listen") && g.chance(0.04):
		if g.chance(0.5) {
			return []string{g.pick([]string{"-e", "--exec"}), g.pick(argvSafeExec)}
		}
		return []string{g.pick([]string{"-c", "--sh-exec"}), g.pick(argvSafeExec)}
	}
	list := argvFlagsByMode[mode]
	if g.chance(0.1) {
		list = argvEveryFlag
	}
	f := list[g.r.IntN(len(list))]
	name := "--" + f.long
	if len([]rune(f.long)) == 1 {
		name = "-" + f.long // -4, -6
	}
	if f.short != "" && g.chance(0.5) {
		name = "-" + f.short
	}
	if f.values == nil {
		return []string{name}
	}
	v := f.values(g)
	switch {
	case strings.HasPrefix(name, "--") && g.chance(0.3):
		return []string{name + "=" + v}
	case !strings.HasPrefix(name, "--") && g.chance(0.3) && v != "":
		return []string{name + v} // attached: -p4444, -w5
	}
	return []string{name, v}
}

// cluster generates combined short flags (-lvnp 4444, -zv, -w5).
func (g *argvGen) cluster() []string {
	var b strings.Builder
	b.WriteString("-")
	for range 1 + g.r.IntN(3) {
		b.WriteString(g.pick(argvClusterBools))
	}
	if g.chance(0.5) {
		k := g.pick(slices.Sorted(maps.Keys(argvClusterValued)))
		b.WriteString(k)
		v := argvClusterValued[k](g)
		if g.chance(0.5) && v != "" {
			return []string{b.String() + v}
		}
		return []string{b.String(), v}
	}
	return []string{b.String()}
}

// positionals generates the words after the flags: mostly what the mode
// expects (with good and bad values), sometimes anything.
func (g *argvGen) positionals(mode string, unix bool) []string {
	if g.chance(0.1) {
		var pos []string
		for range g.r.IntN(4) {
			pos = append(pos, g.pick(slices.Concat(argvGoodHosts, argvJunkHosts, argvGoodPorts, argvJunkPorts, argvJunkWords, argvJunkDurations)))
		}
		return pos
	}
	if unix && g.chance(0.8) {
		return []string{g.pick(argvSockPaths)}
	}
	host, port := g.host(), g.port()
	switch mode {
	case "scan":
		ports := g.pickGood(argvGoodPortLists, argvJunkPorts)
		if g.chance(0.2) {
			return []string{host + ":" + ports}
		}
		return []string{host, ports}
	case "relay":
		pos := []string{g.pickGood(argvGoodRelayAddrs, argvJunkRelayAddrs), g.pickGood(argvGoodRelayAddrs, argvJunkRelayAddrs)}
		if g.chance(0.1) {
			pos = append(pos, g.pick(argvJunkWords))
		}
		if g.chance(0.15) {
			return pos[:g.r.IntN(2)]
		}
		return pos
	case "completion":
		if g.chance(0.1) {
			return nil
		}
		return []string{g.pick(argvShells)}
	case "listen", "echo":
		switch g.r.IntN(3) {
		case 0:
			return []string{port}
		case 1:
			return nil // -p may give it
		}
		return []string{host, port}
	}
	switch g.r.IntN(8) {
	case 0:
		return []string{host}
	case 1:
		return []string{host + ":" + port}
	case 2:
		return []string{host, port, g.pick(argvJunkWords)}
	}
	return []string{host, port}
}

// TestSweepHelpers keeps the sweep's own helpers honest: a quiet failure
// is allowed only for -z without -v, --json and scan, and a help request is
// found where sonde finds it.
func TestSweepHelpers(t *testing.T) {
	for _, tc := range []struct {
		argv []string
		want bool
	}{
		{[]string{"-z", "h", "1"}, true},
		{[]string{"-zv", "h", "1"}, false},
		{[]string{"-nzw1", "h", "1"}, true},
		{[]string{"-w", "z", "h"}, false},
		{[]string{"scan", "--json", "h", "1"}, true},
		{[]string{"scan", "-v", "h", "1"}, true},
		{[]string{"connect", "-v", "h", "1"}, false},
		{[]string{"h", "1"}, false},
		{[]string{"--", "-z"}, false},
		{[]string{"-w", "-z", "h", "1"}, false}, // -z is -w's value
		{[]string{"-z", "--verbose=false", "h", "1"}, true},
		{[]string{"--zero", "--v", "h", "1"}, false},
	} {
		if got := argvQuietFailure(tc.argv); got != tc.want {
			t.Errorf("quietFailureAllowed(%q) = %v, want %v", tc.argv, got, tc.want)
		}
	}
	for _, tc := range []struct {
		argv []string
		want bool
	}{
		{[]string{"h", "1", "--help"}, true},
		{[]string{"-lvh"}, true},
		{[]string{"-s", "-h", "h", "1"}, false},
		{[]string{"-sh", "h", "1"}, false},
		{[]string{"--help=false", "h", "1"}, false},
		{[]string{"--", "-h"}, false},
	} {
		if got := argvFlagsGiven(tc.argv)["help"]; got != tc.want {
			t.Errorf("flagsGiven(%q)[help] = %v, want %v", tc.argv, got, tc.want)
		}
	}
	if got := argvShellQuote([]string{"a b", "it's", ""}); got != `'a b' 'it'\''s' ''` {
		t.Errorf("shellQuote: %s", got)
	}
}
