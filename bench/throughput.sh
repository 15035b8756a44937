#!/usr/bin/env bash
# bench/throughput.sh — loopback benchmark of sonde against nc.openbsd, ncat,
# socat, with iperf3 as the socket ceiling. See bench/README.md.
#
#   bash bench/throughput.sh [ROUNDS]        (default 5 rounds)
#
# Environment knobs (optional):
#   SONDE_BENCH_SIZE=1G        size of the source file (head -c syntax: 512M, 1G)
#   SONDE_BENCH_CONNECTS=200   sequential connects per tool per round (scenario c)
#   SONDE_BENCH_VERIFY=1       0 skips the verification pass
#   SONDE_BENCH_HYPERFINE=1    0 times scenario c with a bash loop instead of hyperfine
#
# Only 127.0.0.1 is used. Every tool invocation is bounded by `timeout`, every
# loop by a count, and everything started is killed by process group on exit.
set -euo pipefail

ROUNDS=${1:-5}
SIZE=${SONDE_BENCH_SIZE:-1G}
CONNECTS=${SONDE_BENCH_CONNECTS:-200}
VERIFY=${SONDE_BENCH_VERIFY:-1}
T=60 # seconds allowed to any single transfer command

[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "usage: bash bench/throughput.sh [ROUNDS]" >&2; exit 2; }
[[ $CONNECTS =~ ^[1-9][0-9]*$ ]] || { echo "SONDE_BENCH_CONNECTS must be a positive integer" >&2; exit 2; }

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init throughput

# ---------------------------------------------------------------- prerequisites

for t in go python3 setsid timeout awk sort; do
	command -v "$t" >/dev/null || die "$t is required"
done
HYPERFINE=0
[[ ${SONDE_BENCH_HYPERFINE:-1} == 1 ]] && have hyperfine && have jq && HYPERFINE=1

build_sonde

TOOLS=(sonde)
for t in nc.openbsd ncat socat iperf3; do
	if have "$t"; then TOOLS+=("$t"); else note "$t not installed: skipped (apt-get install -y netcat-openbsd ncat socat iperf3)"; fi
done

FILE=$tmp/source.bin
note "creating the $SIZE source file"
head -c "$SIZE" /dev/urandom >"$FILE"
BYTES=$(stat -c %s "$FILE")

# ---------------------------------------------------------------- ports

# ---------------------------------------------------------------- commands
#
# Templates: {PORT}, {FILE}, {BYTES} are filled in per run. R_* is the
# receiver (listener), S_* the sender (connector). Scenario a: file on the
# sender's stdin, /dev/null on the receiver's stdout. Scenario b: pipes on
# both ends. iperf3 is memory-to-memory in both (the socket ceiling).

declare -A R_a S_a R_b S_b C_c
R_a[sonde]="$SONDE -l 127.0.0.1 {PORT} </dev/null >/dev/null"
S_a[sonde]="$SONDE 127.0.0.1 {PORT} <{FILE} >/dev/null"
R_a[nc.openbsd]="nc.openbsd -l 127.0.0.1 {PORT} </dev/null >/dev/null"
S_a[nc.openbsd]="nc.openbsd -N 127.0.0.1 {PORT} <{FILE} >/dev/null"
R_a[ncat]="ncat -l --recv-only 127.0.0.1 {PORT} </dev/null >/dev/null"
S_a[ncat]="ncat --send-only 127.0.0.1 {PORT} <{FILE} >/dev/null"
R_a[socat]="socat -u TCP-LISTEN:{PORT},bind=127.0.0.1,reuseaddr STDOUT </dev/null >/dev/null"
S_a[socat]="socat -u STDIN TCP:127.0.0.1:{PORT} <{FILE} >/dev/null"
R_a[iperf3]="iperf3 -s -1 -B 127.0.0.1 -p {PORT} </dev/null >/dev/null"
S_a[iperf3]="iperf3 -c 127.0.0.1 -p {PORT} -n {BYTES} </dev/null >/dev/null"

for t in sonde nc.openbsd ncat socat; do
	# same commands, with `cat` pipes on both ends instead of the file and /dev/null
	r=${R_a[$t]% >/dev/null}
	r=${r% </dev/null}
	s=${S_a[$t]% >/dev/null}
	s=${s% <\{FILE\}}
	R_b[$t]="timeout $T $r </dev/null | cat >/dev/null"
	S_b[$t]="cat {FILE} | timeout $T $s >/dev/null"
	R_a[$t]="timeout $T ${R_a[$t]}"
	S_a[$t]="timeout $T ${S_a[$t]}"
done
R_a[iperf3]="timeout $T ${R_a[iperf3]}"
S_a[iperf3]="timeout $T ${S_a[iperf3]}"
R_b[iperf3]=${R_a[iperf3]}
S_b[iperf3]=${S_a[iperf3]}

# Scenario c: plain connect, nothing sent (stdin is /dev/null), exit when the
# server closes. The server accepts and closes at once; one server for all.
C_TOOLS=()
C_c[sonde]="$SONDE 127.0.0.1 {PORT}"
have nc.openbsd && C_c[nc.openbsd]="nc.openbsd -N 127.0.0.1 {PORT}"
have ncat && C_c[ncat]="ncat 127.0.0.1 {PORT}"
have socat && C_c[socat]="socat - TCP:127.0.0.1:{PORT}"
have nc.openbsd && C_c["nc.openbsd -z (ref)"]="nc.openbsd -z 127.0.0.1 {PORT}"
C_c["sonde --version (ref: startup, no network)"]="$SONDE --version"
C_c["/bin/true (ref: spawn floor)"]="/bin/true"
for t in sonde nc.openbsd ncat socat "nc.openbsd -z (ref)" "sonde --version (ref: startup, no network)" "/bin/true (ref: spawn floor)"; do
	[[ -n ${C_c[$t]:-} ]] && C_TOOLS+=("$t")
done

fill() {
	local s=$1
	s=${s//\{PORT\}/$PORT}
	s=${s//\{FILE\}/$2}
	s=${s//\{BYTES\}/$BYTES}
	printf '%s' "$s"
}

# run_pair RECV SEND SRC: one transfer on a fresh port; ELAPSED_US is the wall
# time from the sender's start until both ends have exited. Returns non-zero if
# either end failed or the listener never came up.
run_pair() {
	local recv send rpid spid rrc=0 src=0 t0 t1
	pick_port
	recv=$(fill "$1" "$3")
	send=$(fill "$2" "$3")
	start bash -c "$recv"
	rpid=$STARTED
	if ! wait_listen "$PORT"; then
		kill -TERM -- "-$rpid" 2>/dev/null || true
		wait "$rpid" 2>/dev/null || true
		forget_pid "$rpid"
		echo "listener did not come up: $recv" >&2
		return 1
	fi
	t0=$(now_us)
	start bash -c "$send"
	spid=$STARTED
	wait "$spid" || src=$?
	wait "$rpid" || rrc=$?
	t1=$(now_us)
	forget_pid "$spid"
	forget_pid "$rpid"
	ELAPSED_US=$((t1 - t0))
	if ((src != 0 || rrc != 0)); then
		echo "transfer failed (sender rc=$src, receiver rc=$rrc): $send  ->  $recv" >&2
		return 1
	fi
}

# ---------------------------------------------------------------- header

cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || echo unknown)
echo "sonde loopback benchmark — $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) cores ($cpu), $(uname -sr), $(awk '/MemTotal/ {printf "%.0f GiB RAM", $2/1048576}' /proc/meminfo)"
echo "sonde:   $(cd "$repo" && git describe --always --dirty 2>/dev/null || echo '?'), $(go version | awk '{print $3}')"
have nc.openbsd && echo "peers:   nc.openbsd $(dpkg-query -W -f='${Version}' netcat-openbsd 2>/dev/null || echo '?'), $(ncat --version 2>&1 | awk '/Version/ {print "ncat " $3}'), $(socat -V 2>/dev/null | awk '/socat version/ {print "socat " $3}'), $(iperf3 --version 2>/dev/null | awk 'NR==1 {print "iperf3 " $2}')"
echo "file:    $BYTES bytes ($SIZE) of /dev/urandom, page-cached; $ROUNDS interleaved rounds; $CONNECTS connects per tool per round"
echo
# show CMD: a command template as printed (the temporary sonde path shortened)
show() { printf '%s' "${1//$SONDE/sonde}"; }
echo "Commands (sonde = the binary just built as a release is: CGO_ENABLED=0, -tags urfave_cli_no_docs, -ldflags '-s -w';"
echo "{PORT} = a fresh free port per run; {FILE} = the source file; every transfer"
echo "command runs under 'timeout $T'):"
echo
echo "a. file source -> socket -> /dev/null"
for t in "${TOOLS[@]}"; do
	printf '  %-11s recv: %s\n  %-11s send: %s\n' "$t" "$(show "${R_a[$t]#timeout $T }")" "" "$(show "${S_a[$t]#timeout $T }")"
done
echo "b. pipe -> socket -> pipe"
for t in "${TOOLS[@]}"; do
	printf '  %-11s recv: %s\n  %-11s send: %s\n' "$t" "$(show "${R_b[$t]}")" "" "$(show "${S_b[$t]}")"
done
echo "c. connect and exit (stdin /dev/null; server: python3 accept()+close() loop on 127.0.0.1)"
for t in "${C_TOOLS[@]}"; do
	printf '  %-44s %s\n' "$t" "$(show "${C_c[$t]}")"
done
echo

# ---------------------------------------------------------------- verification

BAD=() # "scenario:tool" pairs that failed verification
is_bad() { local b; for b in "${BAD[@]}"; do [[ $b == "$1" ]] && return 0; done; return 1; }

if [[ $VERIFY == 1 ]]; then
	note "verification pass (not timed)"
	for t in "${TOOLS[@]}"; do
		[[ $t == iperf3 ]] && continue
		for sc in a b; do
			declare -n R=R_$sc S=S_$sc
			# the whole file must arrive intact: the receiver's output goes to
			# cmp against the source (length and content)
			r=${R[$t]% >/dev/null}
			r=${r% | cat}
			r="set -o pipefail; $r | cmp - {FILE} >$tmp/cmp.out 2>&1"
			if run_pair "$r" "${S[$t]}" "$FILE"; then
				got="all bytes arrived, identical (cmp)"
			else
				got="FAILED: $(cat "$tmp/cmp.out" 2>/dev/null)"
				BAD+=("$sc:$t")
			fi
			unset -n R S
			printf 'verify %s %-11s %s bytes: %s\n' "$sc" "$t" "$BYTES" "$got"
		done
	done
	echo
fi

# ---------------------------------------------------------------- timed rounds

declare -A RES # RES[scenario|tool] = space-separated per-round values
add() { RES[$1|$2]="${RES[$1|$2]:-} $3"; }

# connect server for scenario c
pick_port
CPORT=$PORT
start timeout 1800 python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(512)
while True:
    c, _ = s.accept()
    c.close()
' "$CPORT"
wait_listen "$CPORT" || die "connect server did not start"

# connect_median CMD: median seconds of CONNECTS sequential runs of CMD.
connect_median() {
	local cmd=$1
	if ((HYPERFINE)); then
		timeout 600 hyperfine -N --style none --warmup 5 --runs "$CONNECTS" \
			--export-json "$tmp/c.json" "$cmd" >/dev/null 2>"$tmp/c.err" ||
			{ cat "$tmp/c.err" >&2; return 1; }
		jq -r '.results[0].median' "$tmp/c.json"
	else
		local i t0 t1 ts=() argv=()
		read -ra argv <<<"$cmd"
		for ((i = 0; i < CONNECTS; i++)); do
			t0=$(now_us)
			timeout 10 "${argv[@]}" </dev/null >/dev/null 2>&1 || return 1
			t1=$(now_us)
			ts+=($((t1 - t0)))
		done
		printf '%s\n' "${ts[@]}" | sort -n | awk '{v[NR]=$1} END {m = NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2; printf "%.9f\n", m/1e6}'
	fi
}

# rotate LIST OFFSET: the tools in turn, starting at OFFSET (spreads position bias)
rotate() {
	local -n list=$1
	local n=${#list[@]} i
	for ((i = 0; i < n; i++)); do printf '%s\n' "${list[(i + $2) % n]}"; done
}

for ((round = 1; round <= ROUNDS; round++)); do
	note "round $round/$ROUNDS"
	for sc in a b; do
		declare -n R=R_$sc S=S_$sc
		while IFS= read -r t; do
			is_bad "$sc:$t" && continue
			if run_pair "${R[$t]}" "${S[$t]}" "$FILE"; then
				add "$sc" "$t" "$(awk -v b="$BYTES" -v us="$ELAPSED_US" 'BEGIN {printf "%.1f", b / 1048576 / (us / 1e6)}')"
			else
				add "$sc" "$t" "fail"
			fi
		done < <(rotate TOOLS $((round - 1)))
		unset -n R S
	done
	while IFS= read -r t; do
		PORT=$CPORT
		if m=$(connect_median "$(fill "${C_c[$t]}" "")"); then
			add c "$t" "$(awk -v s="$m" 'BEGIN {printf "%.2f", s * 1000}')"
		else
			add c "$t" "fail"
		fi
	done < <(rotate C_TOOLS $((round - 1)))
done

# ---------------------------------------------------------------- report

# median of the numeric words of "$1" ("fail" entries ignored); "n/a" if none
median() {
	printf '%s\n' $1 | { grep -E '^[0-9.]+$' || true; } | sort -g |
		awk '{v[NR]=$1} END {if (!NR) {print "n/a"; exit} m = NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2; printf "%.2f\n", m}'
}

declare -A MED
report_tput() { # report_tput SCENARIO TITLE TARGET
	local sc=$1 t m
	echo "$2 — median throughput over $ROUNDS rounds (MiB/s, higher is better)"
	printf '  %-12s %10s   %s\n' tool median "per round"
	for t in "${TOOLS[@]}"; do
		if is_bad "$sc:$t"; then
			printf '  %-12s %10s   %s\n' "$t" "-" "skipped: failed verification"
			continue
		fi
		m=$(median "${RES[$sc|$t]:-}")
		MED[$sc|$t]=$m
		printf '  %-12s %10s  %s\n' "$t" "$m" "${RES[$sc|$t]:-}"
	done
	printf '  ratios:'
	for t in nc.openbsd ncat socat iperf3; do
		printf '  sonde/%s %s' "$t" "$(ratio "${MED[$sc|sonde]:-}" "${MED[$sc|$t]:-}")"
	done
	echo
	local r
	r=$(ratio "${MED[$sc|sonde]:-}" "${MED[$sc|nc.openbsd]:-}")
	echo "  target: sonde >= $3x nc.openbsd throughput: $r  $(verdict "$r" ">=" "$3")"
	echo
}

report_tput a "a. file source -> socket -> /dev/null" 2.5
report_tput b "b. pipe -> socket -> pipe" 1.2

echo "c. connect and exit — median wall time per run over $ROUNDS rounds (ms, lower is better)"
echo "   (each round: $CONNECTS sequential runs per tool; the figure is the median of the round medians)"
printf '  %-44s %8s   %s\n' tool median "round medians"
for t in "${C_TOOLS[@]}"; do
	m=$(median "${RES[c|$t]:-}")
	MED[c|$t]=$m
	printf '  %-44s %8s  %s\n' "$t" "$m" "${RES[c|$t]:-}"
done
printf '  ratios (time):'
for t in nc.openbsd ncat socat; do
	printf '  sonde/%s %s' "$t" "$(ratio "${MED[c|sonde]:-}" "${MED[c|$t]:-}")"
done
printf '  sonde/nc.openbsd-z %s\n' "$(ratio "${MED[c|sonde]:-}" "${MED["c|nc.openbsd -z (ref)"]:-}")"
r=$(ratio "${MED[c|sonde]:-}" "${MED[c|nc.openbsd]:-}")
echo "  target: sonde wall time <= 1.3x nc.openbsd -N: $r  $(verdict "$r" "<=" 1.3)"
echo

if ((${#BAD[@]})); then
	echo "verification failures: ${BAD[*]}"
	exit 1
fi
