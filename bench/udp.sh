#!/usr/bin/env bash
# bench/udp.sh — UDP datagram rate on loopback: sonde → sonde against
# ncat, nc.openbsd and socat (each tool to itself) and iperf3 -u -b 0 (the
# ceiling). Each client reads N datagrams of SIZE bytes from stdin, one
# datagram per read (bench/udpfeed feeds it through a SOCK_SEQPACKET
# socket pair); each listener writes to /dev/null. See bench/README.md.
#
#   bash bench/udp.sh [ROUNDS]          (default 3 interleaved rounds)
#
# Environment knobs (optional):
#   SONDE_UDP_COUNT=100000   datagrams per run
#   SONDE_UDP_SIZE=1400      bytes per datagram
#   SONDE_UDP_BIN=PATH       time this sonde binary instead of building one
#
# The counts come from the kernel's UDP counters, so the script runs
# itself in a private network namespace (`unshare -n`, which needs root):
# there only its own datagrams are counted, and nothing it sends can leave
# that namespace's loopback. Every run is bounded by `timeout`, every loop
# by a count, and every process is killed by process group (pid) on exit.
# A MISS is not an error; a run that fails is reported and left out.
set -euo pipefail

ROUNDS=${1:-3}
COUNT=${SONDE_UDP_COUNT:-100000}
SIZE=${SONDE_UDP_SIZE:-1400}
T=120 # seconds allowed to one run

[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "usage: bash bench/udp.sh [ROUNDS]" >&2; exit 2; }
[[ $COUNT =~ ^[1-9][0-9]*$ ]] || { echo "SONDE_UDP_COUNT must be a positive integer" >&2; exit 2; }
[[ $SIZE =~ ^[1-9][0-9]*$ ]] && ((SIZE >= 8 && SIZE <= 65507)) || { echo "SONDE_UDP_SIZE must be 8-65507" >&2; exit 2; }

if [[ -z ${SONDE_UDP_NETNS:-} ]]; then
	[[ $(id -u) == 0 ]] || { echo "udp.sh: needs root, to run in a network namespace of its own (unshare -n)" >&2; exit 1; }
	command -v unshare >/dev/null || { echo "udp.sh: unshare (util-linux) is required" >&2; exit 1; }
	exec unshare -n env SONDE_UDP_NETNS=1 bash "$0" "$@"
fi
ip link set lo up 2>/dev/null || { echo "udp.sh: cannot bring lo up in the private namespace (ip, iproute2)" >&2; exit 1; }

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init udp

for t in go setsid timeout awk sort; do
	have "$t" || die "$t is required"
done
if [[ -n ${SONDE_UDP_BIN:-} ]]; then
	SONDE=$SONDE_UDP_BIN # a build to compare, such as an older commit's
else
	build_sonde
fi
(cd "$repo" && go build -o "$tmp/udpfeed" ./bench/udpfeed) || die "go build (udpfeed) failed"
FEED=$tmp/udpfeed

# Listener and client command templates; {PORT} is filled in per run.
declare -A LSN CLI
TOOLS=(sonde)
LSN[sonde]="$SONDE -u -l 127.0.0.1 {PORT}"
CLI[sonde]="$SONDE -u -q 0 127.0.0.1 {PORT}"
# peer NAME PROGRAM PACKAGE LISTENER CLIENT: timed when PROGRAM is installed.
peer() {
	if have "$2"; then
		TOOLS+=("$1")
		LSN[$1]=$4
		CLI[$1]=$5
	else
		note "$2 not installed: skipped (apt-get install -y $3)"
	fi
}
peer ncat ncat ncat "ncat -u -l --recv-only 127.0.0.1 {PORT}" "ncat -u --send-only 127.0.0.1 {PORT}"
peer nc nc.openbsd netcat-openbsd "nc.openbsd -u -l -d 127.0.0.1 {PORT}" "nc.openbsd -u -q 0 127.0.0.1 {PORT}"
peer socat socat socat "socat -u UDP-RECV:{PORT},bind=127.0.0.1 STDOUT" "socat -u STDIN UDP-SENDTO:127.0.0.1:{PORT}"
peer iperf3 iperf3 iperf3 "iperf3 -s -1 -B 127.0.0.1 -p {PORT}" "iperf3 -c 127.0.0.1 -p {PORT} -u -b 0 -l $SIZE -n $((COUNT * SIZE))"

# wait_bound PORT: until a socket is bound to 127.0.0.1:PORT (UDP, or
# TCP listening for iperf3's control connection), at most 5 s.
wait_bound() {
	local udp tcp i
	printf -v udp '0100007F:%04X 00000000:0000 07' "$1"
	printf -v tcp '0100007F:%04X 00000000:0000 0A' "$1"
	for ((i = 0; i < 500; i++)); do
		grep -q -e "$udp" -e "$tcp" /proc/net/udp /proc/net/tcp && return 0
		sleep 0.01
	done
	return 1
}

kv() { awk -v k="$1" '{for (i = 1; i <= NF; i++) {split($i, a, "="); if (a[1] == k) {print a[2]; exit}}}' "$2"; }

# run NAME: one run; leaves udpfeed's line in $tmp/run.out.
run() {
	local rc=0 lpid feed_n=$COUNT
	: >"$tmp/run.out"
	pick_port
	start timeout "$T" ${LSN[$1]//\{PORT\}/$PORT} </dev/null >/dev/null 2>"$tmp/listener.err"
	lpid=$STARTED
	if ! wait_bound "$PORT"; then
		stop "$lpid"
		echo "$1: the listener did not come up: $(head -c 300 "$tmp/listener.err")" >&2
		return 1
	fi
	[[ $1 == iperf3 ]] && feed_n=0
	timeout "$T" "$FEED" -n "$feed_n" -size "$SIZE" -- ${CLI[$1]//\{PORT\}/$PORT} >"$tmp/run.out" 2>"$tmp/run.err" || rc=$?
	stop "$lpid"
	[[ $1 == iperf3 ]] && sed -i -n '/^inputs=/p' "$tmp/run.out" # iperf3 prints its report on stdout
	if ((rc != 0)) || [[ -z $(kv elapsed_s "$tmp/run.out") ]]; then
		echo "$1: run failed (exit $rc): $(tail -n 2 "$tmp/run.err" | cut -c1-200)" >&2
		return 1
	fi
}

median() { sort -g | awk '{v[NR] = $1} END {if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

echo "sonde UDP datagram-rate benchmark — $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) cores, $(uname -sr), load average $(cut -d' ' -f1-3 /proc/loadavg)"
if [[ -n ${SONDE_UDP_BIN:-} ]]; then
	echo "sonde:   $SONDE_UDP_BIN (SONDE_UDP_BIN)"
else
	echo "sonde:   $(cd "$repo" && git describe --always --dirty 2>/dev/null || echo '?'), $(go version | awk '{print $3}')"
fi
echo "run:     $COUNT datagrams × $SIZE B, $ROUNDS interleaved rounds, in a private network namespace"
echo
for t in "${TOOLS[@]}"; do
	printf '  %-7s listener: %s >/dev/null\n' "$t" "${LSN[$t]}"
	if [[ $t == iperf3 ]]; then
		printf '  %-7s client:   %s\n' "" "${CLI[$t]}"
	else
		printf '  %-7s client:   udpfeed -n %s -size %s -- %s\n' "" "$COUNT" "$SIZE" "${CLI[$t]}"
	fi
done
echo

declare -A RATE LOSS PER
for ((r = 0; r < ROUNDS; r++)); do
	n=${#TOOLS[@]}
	for ((i = 0; i < n; i++)); do
		t=${TOOLS[$(((i + r) % n))]}
		run "$t" || continue
		sent=$(kv sent "$tmp/run.out")
		delivered=$(kv delivered "$tmp/run.out")
		dropped=$(kv dropped "$tmp/run.out")
		secs=$(kv elapsed_s "$tmp/run.out")
		rate=$(awk -v d="$delivered" -v s="$secs" 'BEGIN {printf "%.0f", d / s}')
		loss=$(awk -v x="$dropped" -v s="$sent" 'BEGIN {printf "%.1f", (s > 0) ? 100 * x / s : 0}')
		per=$(awk -v s="$sent" -v n="$COUNT" 'BEGIN {printf "%.3f", s / n}')
		RATE[$t]+="$rate "
		LOSS[$t]+="$loss "
		PER[$t]+="$per "
		note "round $((r + 1)) $t: sent $sent, delivered $delivered, dropped $dropped in ${secs}s: $rate datagrams/s, $loss % lost"
	done
done

med() { tr ' ' '\n' <<<"$1" | grep . | median; }
declare -A M
echo "| tool | delivered datagrams/s | lost % | datagrams sent per input | runs (datagrams/s) |"
echo "|---|---|---|---|---|"
for t in "${TOOLS[@]}"; do
	M[$t]=$(med "${RATE[$t]:-}")
	printf '| %s | %s | %s | %s | %s |\n' "$t" "${M[$t]}" "$(med "${LOSS[$t]:-}")" "$(med "${PER[$t]:-}")" "${RATE[$t]:-none}"
done
echo
s=${M[sonde]:-n/a}
r_ncat=$(ratio "$s" "${M[ncat]:-n/a}")
r_iperf=$(ratio "$s" "${M[iperf3]:-n/a}")
echo "sonde/ncat:   $r_ncat (target ≥ 1.5: $(verdict "$r_ncat" '>=' 1.5))"
echo "sonde/nc:     $(ratio "$s" "${M[nc]:-n/a}")"
echo "sonde/socat:  $(ratio "$s" "${M[socat]:-n/a}")"
echo "sonde/iperf3: $r_iperf (target ≥ 0.5: $(verdict "$r_iperf" '>=' 0.5))"
sonde_loss=$(med "${LOSS[sonde]:-}")
echo "sonde loss:   $sonde_loss % (target ≤ 10: $(verdict "$sonde_loss" '<=' 10))"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
