#!/usr/bin/env bash
# bench/relay.sh — loopback throughput of `sonde relay` against
# `socat TCP-LISTEN,fork TCP:target`, and of a direct connection as the
# ceiling. See bench/README.md.
#
#   bash bench/relay.sh [ROUNDS]        (default 5 rounds)
#
# Environment knobs (optional):
#   SONDE_BENCH_SIZE=512M      size of the file sent (head -c syntax)
#
# One transfer: socat sends the file (-u, then half-closes) to the relay,
# the relay forwards it to a socat sink that writes it to /dev/null and
# exits at EOF. The time is from the sender's start to the sink's exit, so
# it includes passing the FIN through the relay. Sender and sink are the
# same for every relay; only the middle changes.
#
# Only 127.0.0.1 is used. Every command is bounded by `timeout`, every loop
# by a count, and everything started is killed by process group on exit.
set -euo pipefail

ROUNDS=${1:-5}
SIZE=${SONDE_BENCH_SIZE:-512M}
T=60      # seconds allowed to any single transfer
BUF=131072 # socat's buffer for sender and sink (its default, 8 KiB, would be the bottleneck)

[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "usage: bash bench/relay.sh [ROUNDS]" >&2; exit 2; }

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init relay

for t in go socat setsid timeout awk sort cmp; do
	command -v "$t" >/dev/null || die "$t is required (apt-get install -y socat)"
done

build_sonde
FILE=$tmp/source.bin
note "creating the $SIZE source file"
head -c "$SIZE" /dev/urandom >"$FILE"
BYTES=$(stat -c %s "$FILE")

# The middles: {LPORT} is where the sender connects, {TPORT} the sink.
MIDDLES=(direct sonde sonde-observed socat socat-b128k)
declare -A MIDDLE=(
	[sonde]="$SONDE relay 127.0.0.1:{LPORT} 127.0.0.1:{TPORT}"
	[sonde-observed]="$SONDE relay --idle-timeout 1h 127.0.0.1:{LPORT} 127.0.0.1:{TPORT}"
	[socat]="socat TCP-LISTEN:{LPORT},bind=127.0.0.1,reuseaddr,fork TCP:127.0.0.1:{TPORT}"
	[socat-b128k]="socat -b 131072 TCP-LISTEN:{LPORT},bind=127.0.0.1,reuseaddr,fork TCP:127.0.0.1:{TPORT}"
)

# transfer MIDDLE OUT: send the file through MIDDLE into OUT; set SECS.
transfer() {
	local middle=$1 out=$2 tport lport sink relay="" t0 t1 cmd
	pick_port
	tport=$PORT
	start timeout "$T" socat -b "$BUF" -u "TCP-LISTEN:$tport,bind=127.0.0.1,reuseaddr" "OPEN:$out,creat,trunc"
	sink=$STARTED
	wait_listen "$tport" || die "the sink never listened"
	lport=$tport
	if [[ $middle != direct ]]; then
		pick_port
		lport=$PORT
		cmd=${MIDDLE[$middle]//\{LPORT\}/$lport}
		cmd=${cmd//\{TPORT\}/$tport}
		# shellcheck disable=SC2086 # the template is split into words on purpose
		start timeout "$T" $cmd 2>>"$tmp/middle.err" # the relay's totals, not the report
		relay=$STARTED
		wait_listen "$lport" || die "$middle never listened"
	fi
	t0=$(now_us)
	timeout "$T" socat -b "$BUF" -u "OPEN:$FILE" "TCP:127.0.0.1:$lport" || die "$middle: the sender failed"
	wait "$sink" || die "$middle: the sink failed"
	t1=$(now_us)
	stop "$sink"
	[[ -n $relay ]] && stop "$relay"
	SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e6 }')
}

note "verifying that every middle delivers the file intact"
for m in "${MIDDLES[@]}"; do
	transfer "$m" "$tmp/received.bin"
	cmp -s "$FILE" "$tmp/received.bin" || die "$m: the received file differs"
	rm -f "$tmp/received.bin"
done

echo "commands (sender: socat -b $BUF -u OPEN:FILE TCP:127.0.0.1:LPORT; sink: socat -b $BUF -u TCP-LISTEN:TPORT OPEN:/dev/null):"
for m in "${MIDDLES[@]}"; do
	printf '  %-15s %s\n' "$m" "${MIDDLE[$m]:-none: the sender connects to the sink}"
done

declare -A times
for ((r = 0; r < ROUNDS; r++)); do
	for ((i = 0; i < ${#MIDDLES[@]}; i++)); do
		m=${MIDDLES[(i + r) % ${#MIDDLES[@]}]} # the first middle moves each round
		transfer "$m" /dev/null
		times[$m]+="$SECS "
	done
	note "round $((r + 1))/$ROUNDS done"
done

printf '\n%s through each middle, %d rounds: median and best (MiB/s)\n' "$SIZE" "$ROUNDS"
printf '%-15s %10s %10s\n' middle median best
for m in "${MIDDLES[@]}"; do
	# shellcheck disable=SC2086
	printf '%s\n' ${times[$m]} | sort -n | awk -v b="$BYTES" -v m="$m" '
		{ t[NR] = $1 }
		END {
			med = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
			printf "%-15s %10.0f %10.0f\n", m, b / med / 1048576, b / t[1] / 1048576
		}'
done
