#!/usr/bin/env bash
# bench/echo.sh — echo-load benchmark: `sonde echo` against ncat --exec cat,
# socat fork EXEC:cat and a bare goroutine-per-connection Go echo server (the
# ceiling), at 100 and 1000 concurrent clients, plus the RSS of sonde and of
# the bare server with 1000 idle clients. See bench/README.md.
#
#   bash bench/echo.sh [ROUNDS]          (default 3 interleaved rounds)
#
# Environment knobs (optional):
#   SONDE_ECHO_CLIENTS="100 1000"   client counts
#   SONDE_ECHO_SECONDS=2            aimed length of one timed run, in seconds
#   SONDE_ECHO_SIZE=64              bytes per round trip
#
# Only 127.0.0.1 is used. Every run is bounded by `timeout`, every loop by a
# count, and every server is killed by process group (pid) on exit.
#
# Exit status 1 only if a server sent back wrong bytes (or a build failed).
# Failed runs (timeouts, connection errors: ncat and socat at 1000 clients on
# a busy machine) are reported and left out of the medians; a MISS is not an
# error either.
set -euo pipefail

ROUNDS=${1:-3}
CLIENTS=(${SONDE_ECHO_CLIENTS:-100 1000})
SECONDS_PER_RUN=${SONDE_ECHO_SECONDS:-2}
SIZE=${SONDE_ECHO_SIZE:-64}
T=100      # seconds allowed to one load run (outer `timeout`)
LOAD_T=80s # echoload's own deadline: it reports what it has before T hits
IDLE_CLIENTS=1000

[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "usage: bash bench/echo.sh [ROUNDS]" >&2; exit 2; }
for n in "${CLIENTS[@]}"; do
	[[ $n =~ ^[1-9][0-9]*$ ]] || { echo "SONDE_ECHO_CLIENTS must be positive integers" >&2; exit 2; }
done
[[ $SIZE =~ ^[1-9][0-9]*$ ]] || { echo "SONDE_ECHO_SIZE must be a positive integer" >&2; exit 2; }

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init echo

# ---------------------------------------------------------------- prerequisites

for t in go setsid timeout awk sort grep; do
	have "$t" || die "$t is required"
done

# 1000 clients need 1000 descriptors on each side (more for the forking servers).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -n)
max_clients=0
for n in "${CLIENTS[@]}" "$IDLE_CLIENTS"; do ((n > max_clients)) && max_clients=$n; done
if [[ $NOFILE != unlimited ]] && ((NOFILE < max_clients + 100)); then
	die "open-file limit is $NOFILE, too low for $max_clients clients (ulimit -n)"
fi

build_sonde
(cd "$repo" && go build -o "$tmp/echoload" ./bench/echoload) || die "go build (echoload) failed"
(cd "$repo" && go build -o "$tmp/echobare" ./bench/echobare) || die "go build (echobare) failed"
LOAD=$tmp/echoload
BARE=$tmp/echobare

# Server command templates; {PORT} is filled in per run.
declare -A SRV
SERVERS=(sonde)
SRV[sonde]="$SONDE echo 127.0.0.1 {PORT}"
if have ncat; then
	SERVERS+=(ncat)
	# ncat accepts 100 clients at once by default; lift that where it can.
	if ncat --help 2>&1 | grep -q -- '--max-conns'; then
		SRV[ncat]="ncat -l -k --max-conns 2000 127.0.0.1 {PORT} --exec /bin/cat"
	else
		SRV[ncat]="ncat -l -k 127.0.0.1 {PORT} --exec /bin/cat"
	fi
else
	note "ncat not installed: skipped (apt-get install -y ncat)"
fi
if have socat; then
	SERVERS+=(socat)
	SRV[socat]="socat TCP-LISTEN:{PORT},fork,reuseaddr,bind=127.0.0.1,backlog=4096 EXEC:cat"
else
	note "socat not installed: skipped (apt-get install -y socat)"
fi
SERVERS+=(bare)
SRV[bare]="$BARE -addr 127.0.0.1:{PORT}"

# ---------------------------------------------------------------- ports

# Server ports come from 20000-32000, below the ephemeral range the clients'
# ports come from (32768-60999 by default).

# start_server NAME: the server on a fresh free port; SPID is its group.
start_server() {
	pick_port
	local cmd=${SRV[$1]//\{PORT\}/$PORT}
	start timeout 600 $cmd </dev/null >/dev/null 2>"$tmp/server.err"
	SPID=$STARTED
	if ! wait_listen "$PORT"; then
		stop "$SPID"
		echo "server did not come up: $cmd: $(head -c 300 "$tmp/server.err")" >&2
		return 1
	fi
}

# kv KEY FILE: the value of KEY in echoload's key=value line
kv() { awk -v k="$1" '{for (i = 1; i <= NF; i++) {split($i, a, "="); if (a[1] == k) {print a[2]; exit}}}' "$2"; }

# load NAME CLIENTS ROUNDS: one echoload run against a fresh NAME server.
# Leaves echoload's line in $tmp/load.out, its stderr in $tmp/load.err, and
# returns its status (124 if `timeout` hit).
load() {
	local rc=0
	: >"$tmp/load.out"
	echo "server did not start" >"$tmp/load.err"
	start_server "$1" || return 1
	timeout "$T" "$LOAD" -addr "127.0.0.1:$PORT" -conns "$2" -rounds "$3" -size "$SIZE" -timeout "$LOAD_T" \
		>"$tmp/load.out" 2>"$tmp/load.err" || rc=$?
	stop "$SPID"
	return "$rc"
}

BAD=() # runs in which a server sent back wrong bytes: these make the exit status 1
# check_bytes WHAT FILE: note it if echoload's line in FILE counts wrong replies
check_bytes() {
	local b
	b=$(kv bad "$2")
	if [[ -n $b && $b != 0 ]]; then BAD+=("$1: $b replies with wrong bytes"); fi
	return 0
}

# describe_failure NAME RC: one line on what went wrong in the last load run
describe_failure() {
	local e c
	e=$(kv errors "$tmp/load.out")
	c=$(kv conn_errors "$tmp/load.out")
	if [[ -n $e ]]; then
		printf '%s: %s connection errors, %s failed round trips, setup took %ss (%s)' "$1" "$c" "$e" \
			"$(kv setup_s "$tmp/load.out")" "$(tail -n 1 "$tmp/load.err" | cut -c1-200)"
	elif (($2 == 124)); then
		printf '%s: no result within %ss (timeout)' "$1" "$T"
	else
		printf '%s: failed (exit %s): %s' "$1" "$2" "$(tail -n 1 "$tmp/load.err" | cut -c1-200)"
	fi
}

# ---------------------------------------------------------------- header

cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || echo unknown)
echo "sonde echo-load benchmark — $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) cores ($cpu), $(uname -sr), $(awk '/MemTotal/ {printf "%.0f GiB RAM", $2/1048576}' /proc/meminfo), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "sonde:   $(cd "$repo" && git describe --always --dirty 2>/dev/null || echo '?'), $(go version | awk '{print $3}'), CGO_ENABLED=0"
echo "peers:   $(have ncat && ncat --version 2>&1 | awk '/Version/ {print "ncat " $3}'), $(have socat && socat -V 2>/dev/null | awk '/socat version/ {print "socat " $3}')"
echo "load:    echoload, closed loop: $SIZE-byte round trips, clients ${CLIENTS[*]}, $ROUNDS interleaved rounds, ~${SECONDS_PER_RUN}s per run; open-file limit $NOFILE"
echo
show() { local s=${1//$SONDE/sonde}; s=${s//$BARE/echobare}; printf '%s' "${s//$LOAD/echoload}"; }
echo "Servers ({PORT} = a fresh free port per run; each runs under 'timeout 600' in its own session):"
for s in "${SERVERS[@]}"; do printf '  %-6s %s\n' "$s" "$(show "${SRV[$s]}")"; done
echo "Client: timeout $T echoload -addr 127.0.0.1:{PORT} -conns N -rounds M -size $SIZE -timeout $LOAD_T"
echo "  (N connections opened 8 at a time, one checked warm-up round trip each, then"
echo "   all start together: M timed round trips each, every reply checked byte for byte)"
echo

# ---------------------------------------------------------------- calibration

# One short checked run per server at the first client count (not timed)
# picks M, the round trips per connection, so that a timed run takes about
# SECONDS_PER_RUN: M = rate * SECONDS_PER_RUN / clients, at least 10. Slower
# servers get fewer round trips; round trips/s is a rate, so the figures stay
# comparable. Other client counts start from the same rate (calibrating at
# 1000 clients would cost ncat and socat their whole setup time again: a
# fork per client, tens of seconds on a busy machine), and after every timed
# run M is set again from the rate that run measured.
declare -A M
pick_m() { awk -v r="$1" -v n="$2" -v t="$SECONDS_PER_RUN" 'BEGIN {m = int(r * t / n + 0.5); if (m < 10) m = 10; print m}'; }
n0=${CLIENTS[0]}
m0=$(((20000 + n0 - 1) / n0))
((m0 < 5)) && m0=5
note "calibration pass (not timed, $n0 clients): picks M per server and client count"
for s in "${SERVERS[@]}"; do
	rc=0
	load "$s" "$n0" "$m0" || rc=$?
	check_bytes "calibration, $s" "$tmp/load.out"
	r=$(kv rtps "$tmp/load.out")
	if ((rc == 0)) && [[ -n $r ]]; then
		line="$r rt/s, checked"
	else
		line=$(describe_failure "$s" "$rc")
		r=1000 # a guess; the timed runs will tell
	fi
	ms=
	for n in "${CLIENTS[@]}"; do
		M[$n|$s]=$(pick_m "$r" "$n")
		ms+=" M(${n})=${M[$n|$s]}"
	done
	echo "calibrate $(printf '%-6s' "$s") $n0 clients x $m0 round trips: $line ->$ms"
done
echo

# ---------------------------------------------------------------- timed rounds

declare -A RES # RES[clients|server|field] = space-separated per-round values
add() { RES[$1]="${RES[$1]:-} $2"; }
FAILS=() # one line per failed run
declare -A GAVE_UP

rotate() { # rotate OFFSET: the servers in turn, starting at OFFSET
	local n=${#SERVERS[@]} i
	for ((i = 0; i < n; i++)); do printf '%s\n' "${SERVERS[(i + $1) % n]}"; done
}

for ((round = 1; round <= ROUNDS; round++)); do
	note "round $round/$ROUNDS (load average $(cut -d' ' -f1 /proc/loadavg))"
	for n in "${CLIENTS[@]}"; do
		while IFS= read -r s; do
			if [[ -n ${GAVE_UP[$n|$s]:-} ]]; then
				for f in m rtps p50 p99 max setup; do add "$n|$s|$f" skip; done
				continue
			fi
			rc=0
			add "$n|$s|m" "${M[$n|$s]}"
			load "$s" "$n" "${M[$n|$s]}" || rc=$?
			check_bytes "round $round, $n clients, $s" "$tmp/load.out"
			if ((rc == 0)); then
				M[$n|$s]=$(pick_m "$(kv rtps "$tmp/load.out")" "$n")
				add "$n|$s|rtps" "$(kv rtps "$tmp/load.out")"
				add "$n|$s|p50" "$(kv p50_us "$tmp/load.out")"
				add "$n|$s|p99" "$(kv p99_us "$tmp/load.out")"
				add "$n|$s|max" "$(kv max_us "$tmp/load.out")"
				add "$n|$s|setup" "$(kv setup_s "$tmp/load.out")"
			else
				for f in rtps p50 p99 max setup; do add "$n|$s|$f" fail; done
				FAILS+=("round $round, $n clients: $(describe_failure "$s" "$rc")")
				# A server that fails at this many clients is not run at this many
				# again: its failures can cost a whole deadline each.
				GAVE_UP[$n|$s]=1
			fi
		done < <(rotate $((round - 1)))
	done
done

# ---------------------------------------------------------------- RSS

# rss NAME: VmRSS and VmHWM of the NAME server (MiB, in RSS_V and RSS_H)
# while IDLE_CLIENTS clients are connected and idle (each did one checked
# round trip first); RSS_NOTE says how many were open.
rss() {
	local p lp child i
	RSS_V=n/a RSS_H=n/a RSS_NOTE="server did not start"
	start_server "$1" || return 0
	p=$SPID
	start timeout 60 "$LOAD" -addr "127.0.0.1:$PORT" -conns "$IDLE_CLIENTS" -size "$SIZE" -idle 4s -timeout 50s \
		>"$tmp/idle.out" 2>"$tmp/idle.err"
	lp=$STARTED
	for ((i = 0; i < 300; i++)); do
		grep -q 'open and idle' "$tmp/idle.err" 2>/dev/null && break
		sleep 0.1
	done
	sleep 1.5
	child=$(awk '{print $1}' "/proc/$p/task/$p/children" 2>/dev/null || true) # the server, child of its `timeout`
	if [[ -n $child && -r /proc/$child/status ]]; then
		RSS_V=$(awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$child/status")
		RSS_H=$(awk '/^VmHWM:/ {printf "%.1f", $2 / 1024}' "/proc/$child/status")
	fi
	wait "$lp" 2>/dev/null || true
	forget_pid "$lp"
	stop "$p"
	RSS_NOTE=$(grep -o 'open=[0-9]* conn_errors=[0-9]*' "$tmp/idle.out" || echo "client failed: $(tail -n 1 "$tmp/idle.err" | cut -c1-200)")
	check_bytes "RSS, $1" "$tmp/idle.out"
}
note "RSS with $IDLE_CLIENTS idle clients"
rss sonde
RSS_SONDE=$RSS_V HWM_SONDE=$RSS_H RSS_SONDE_NOTE=$RSS_NOTE
rss bare
RSS_BARE=$RSS_V HWM_BARE=$RSS_H RSS_BARE_NOTE=$RSS_NOTE

# ---------------------------------------------------------------- report

median() { # median VALUES [DECIMALS]: of the numeric words ("fail", "skip" ignored); n/a if none
	printf '%s\n' $1 | { grep -E '^[0-9.]+$' || true; } | sort -g |
		awk -v d="${2:-0}" '{v[NR]=$1} END {if (!NR) {print "n/a"; exit} m = NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2; printf "%.*f\n", d, m}'
}
# per_round A_VALUES B_VALUES: the ratio A/B within each round (the two ran
# minutes apart at most), so the drift of a shared machine shows
per_round() {
	awk -v a="$1" -v b="$2" 'BEGIN {n = split(a, x, " "); split(b, y, " ")
		for (i = 1; i <= n; i++) printf "%s%s", (i > 1 ? " " : ""), (x[i]+0 > 0 && y[i]+0 > 0) ? sprintf("%.2f", x[i]/y[i]) : "-"}'
}

declare -A MED
echo "Results: medians over $ROUNDS interleaved rounds (failed runs left out). M: round trips"
echo "per connection (median; set per run from the previous rate). setup s: time to open"
echo "and warm up every connection, not part of rt/s."
echo
for n in "${CLIENTS[@]}"; do
	echo "$n clients"
	printf '  %-6s %6s %10s %9s %9s %9s %8s   %s\n' server "M" "rt/s" "p50 µs" "p99 µs" "max µs" "setup s" "rt/s per round"
	for s in "${SERVERS[@]}"; do
		for f in rtps p50 p99 max; do MED[$n|$s|$f]=$(median "${RES[$n|$s|$f]:-}"); done
		MED[$n|$s|setup]=$(median "${RES[$n|$s|setup]:-}" 1)
		MED[$n|$s|m]=$(median "${RES[$n|$s|m]:-}")
		printf '  %-6s %6s %10s %9s %9s %9s %8s  %s\n' "$s" "${MED[$n|$s|m]}" "${MED[$n|$s|rtps]}" "${MED[$n|$s|p50]}" \
			"${MED[$n|$s|p99]}" "${MED[$n|$s|max]}" "${MED[$n|$s|setup]}" "${RES[$n|$s|rtps]:-}"
	done
	r1=$(ratio "${MED[$n|sonde|rtps]}" "${MED[$n|bare|rtps]}")
	r2=$(ratio "${MED[$n|sonde|rtps]}" "${MED[$n|ncat|rtps]:-}")
	r3=$(ratio "${MED[$n|sonde|p99]}" "${MED[$n|ncat|p99]:-}")
	r4=$(ratio "${MED[$n|sonde|rtps]}" "${MED[$n|socat|rtps]:-}")
	echo "  ratios of the medians (per-round ratios in brackets):"
	echo "  sonde/bare rt/s   $r1   target >= 0.9: $(verdict "$r1" ">=" 0.9)   [$(per_round "${RES[$n|sonde|rtps]:-}" "${RES[$n|bare|rtps]:-}")]"
	echo "  sonde/ncat rt/s   $r2   target >= 1.5: $(verdict "$r2" ">=" 1.5)   [$(per_round "${RES[$n|sonde|rtps]:-}" "${RES[$n|ncat|rtps]:-}")]"
	echo "  sonde/ncat p99    $r3   target <= 0.5: $(verdict "$r3" "<=" 0.5)   [$(per_round "${RES[$n|sonde|p99]:-}" "${RES[$n|ncat|p99]:-}")]"
	echo "  sonde/socat rt/s  $r4   (no target)   [$(per_round "${RES[$n|sonde|rtps]:-}" "${RES[$n|socat|rtps]:-}")]"
	echo
done
echo "Hex dumping off (the default) is the path measured above: sonde echo against"
echo "the bare server is its whole cost, hex hooks included."
echo
echo "RSS with $IDLE_CLIENTS idle clients (each did one round trip, then held ~4 s; MiB):"
echo "  sonde     VmRSS $RSS_SONDE (peak VmHWM $HWM_SONDE)   [$RSS_SONDE_NOTE]   target < 80: $(verdict "$RSS_SONDE" "<=" 79.99)"
echo "  echobare  VmRSS $RSS_BARE (peak VmHWM $HWM_BARE)   [$RSS_BARE_NOTE]"
echo
if ((${#FAILS[@]})); then
	echo "Failed runs (left out of the medians; a server that failed at a client count is skipped there afterwards):"
	printf '  %s\n' "${FAILS[@]}"
	echo
fi
echo "Targets (issue 3) apply at 1000 clients; the 100-client verdicts are for information."
if ((${#BAD[@]})); then
	echo
	echo "WRONG BYTES (verification failed):"
	printf '  %s\n' "${BAD[@]}"
	exit 1
fi
