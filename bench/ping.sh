#!/usr/bin/env bash
# bench/ping.sh — is sonde ping's handshake time the handshake's? And does
# -i 10ms hold its pace? See bench/README.md.
#
#   bash bench/ping.sh [ROUNDS]        (default 5 rounds)
#
# Environment knobs (optional):
#   SONDE_BENCH_PROBES=1000   handshakes per tool per round (a)
#   SONDE_BENCH_PACED=500     probes of the -i 10ms run (b)
#
# Only 127.0.0.1 is used, on a port the kernel picks for the benchmark's own
# listener. Every command runs under `timeout`, every loop has a fixed count,
# and the listener is killed on exit.
set -euo pipefail

ROUNDS=${1:-5}
PROBES=${SONDE_BENCH_PROBES:-1000}
PACED=${SONDE_BENCH_PACED:-500}
[[ $ROUNDS =~ ^[1-9][0-9]*$ && $PROBES =~ ^[1-9][0-9]*$ && $PACED =~ ^[1-9][0-9]*$ ]] ||
	{ echo "usage: bash bench/ping.sh [ROUNDS]; knobs must be positive integers" >&2; exit 2; }

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init ping

for t in go python3 jq timeout; do command -v "$t" >/dev/null || die "$t is required"; done

build_sonde
(cd "$repo" && go build -o "$tmp/connectloop" ./bench/connectloop) || die "go build (connectloop) failed"

# A neutral server: accept, close, forever. It sets PORT.
accept_close_server
ADDR=127.0.0.1:$PORT

median() { sort -g | awk '{v[NR]=$1} END {if (NR % 2) print v[(NR+1)/2]; else printf "%.3f\n", (v[NR/2]+v[NR/2+1])/2}'; }

CMD_LOOP="$tmp/connectloop -n $PROBES -i 1ms $ADDR"
CMD_PING="$tmp/sonde ping --json -c $PROBES -i 1ms 127.0.0.1 $PORT"
CMD_PACED="$tmp/sonde ping --json -c $PACED -i 10ms 127.0.0.1 $PORT"
echo "commands:"
echo "  a. $CMD_LOOP"
echo "  a. $CMD_PING   (p50_ms of the summary)"
echo "  b. $CMD_PACED   (elapsed_ms of the summary, and wall time)"
echo

loop_us=() ping_us=() drift_ms=() wall_ms=()
for ((r = 1; r <= ROUNDS; r++)); do
	# a: interleaved, the starting tool alternating by round
	for k in 0 1; do
		if (((r + k) % 2)); then
			out=$(timeout 120 $CMD_LOOP) || die "connectloop failed"
			v=${out#median_us=}; loop_us+=("${v%% *}")
		else
			out=$(timeout 120 $CMD_PING | tail -1) || die "sonde ping failed"
			jq -e '.sent == .ok' <<<"$out" >/dev/null || die "sonde ping lost probes: $out"
			ping_us+=("$(jq '.p50_ms * 1000' <<<"$out")")
		fi
	done
	# b: the paced run; probe n starts at (n-1) * 10ms after the first
	t0=$EPOCHREALTIME
	out=$(timeout 120 $CMD_PACED | tail -1) || die "sonde ping -i 10ms failed"
	t1=$EPOCHREALTIME
	jq -e '.sent == .ok' <<<"$out" >/dev/null || die "sonde ping -i 10ms lost probes: $out"
	elapsed=$(jq '.elapsed_ms' <<<"$out")
	drift_ms+=("$(awk -v e="$elapsed" -v n="$PACED" 'BEGIN {printf "%.3f", e - (n - 1) * 10}')")
	wall_ms+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", (b - a) * 1000}')")
	note "round $r: connect() median ${loop_us[-1]} us, sonde ping p50 ${ping_us[-1]} us; -i 10ms: elapsed $elapsed ms (drift ${drift_ms[-1]} ms), wall ${wall_ms[-1]} ms"
done

L=$(printf '%s\n' "${loop_us[@]}" | median)
P=$(printf '%s\n' "${ping_us[@]}" | median)
D=$(printf '%s\n' "${drift_ms[@]}" | median)
W=$(printf '%s\n' "${wall_ms[@]}" | median)
diff=$(awk -v p="$P" -v l="$L" 'BEGIN {printf "%.1f", p - l}')
verdict=$(awk -v d="$diff" 'BEGIN {print (d <= 50 && d >= -50) ? "PASS" : "MISS"}')
ideal=$(((PACED - 1) * 10))
dverdict=$(awk -v d="$D" 'BEGIN {print (d < 10 && d > -10) ? "PASS" : "MISS"}')
echo "results (medians of $ROUNDS rounds):"
echo "| measure | value | target |"
echo "|---|---|---|"
echo "| a. bare connect() median, $PROBES connects | $L us | |"
echo "| a. sonde ping p50, $PROBES probes | $P us | |"
echo "| a. sonde ping - connect() | $diff us | within 50 us: **$verdict** |"
echo "| b. -i 10ms x $PACED: first to last probe | $(awk -v d="$D" -v i="$ideal" 'BEGIN {printf "%.1f", i + d}') ms (ideal $ideal ms + last reply) | |"
echo "| b. drift over $PACED probes | $D ms | under one interval (10 ms): **$dverdict** |"
echo "| b. wall time of the process | $W ms | |"
