#!/usr/bin/env bash
# bench/scan.sh — sonde scan against nmap -sT, in a private network
# namespace, in two cases: a full TCP scan of 127.0.0.1 (ports 1-65535),
# and many hosts (the 1,024 loopback addresses of 127.1.0.0/22 × 4 ports,
# a few of them listening). See bench/README.md.
#
#   sudo bash bench/scan.sh [ROUNDS]        (default 5 rounds; needs root)
#
# The whole run happens in a network namespace of its own (unshare -n): its
# loopback holds only the benchmark's listeners, and nothing the scans send
# can reach the machine's real network or its shared loopback. Every command
# runs under `timeout`, every loop has a fixed count, and the listener is
# killed on exit.
set -euo pipefail

ROUNDS=${1:-5}
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "usage: bash bench/scan.sh [ROUNDS]" >&2; exit 2; }
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The ports the benchmark listens on: well-known ones, one in the middle of
# the ephemeral range (where self-connections happen), and the last port.
OPEN_PORTS=(22 80 443 5432 8080 40000 65535)
# The listeners of the many-host case, on addresses of 127.1.0.0/22 (all
# of 127.0.0.0/8 is loopback).
MULTI_LISTEN=(127.1.0.5:80 127.1.1.1:8080 127.1.2.9:443 127.1.3.200:22)
MULTI_PORTS=22,80,443,8080
LISTEN=("${MULTI_LISTEN[@]}")
for p in "${OPEN_PORTS[@]}"; do LISTEN+=("127.0.0.1:$p"); done

if [[ ${SONDE_BENCH_NETNS:-} != 1 ]]; then
	for t in go unshare ip nmap python3 timeout awk sort /usr/bin/time; do
		command -v "$t" >/dev/null || die "$t is required (apt-get install -y nmap iproute2 util-linux python3 time)"
	done
	[[ $(id -u) == 0 ]] || die "needs root, for unshare -n (a private network namespace)"
	bench_init scan
	build_sonde
	rc=0
	unshare -n env SONDE_BENCH_NETNS=1 SONDE_BENCH_BIN="$SONDE" SONDE_BENCH_TMP="$tmp" \
		SONDE_BENCH_PARENT_NS="$(readlink /proc/self/ns/net)" bash "${BASH_SOURCE[0]}" "$@" || rc=$?
	exit "$rc"
fi

# ---------------------------------------------------------------- inside the namespace

SONDE=$SONDE_BENCH_BIN
tmp=$SONDE_BENCH_TMP
[[ $(readlink /proc/self/ns/net) != "$SONDE_BENCH_PARENT_NS" ]] || die "not in a private network namespace: refusing to scan"
ip link set lo up

server_pid=
# (wait reports the server's death by SIGTERM; under set -e that status
# must not become the script's: the benchmark once exited 143 after a
# complete run.)
cleanup() {
	[[ -n $server_pid ]] || return 0
	kill "$server_pid" 2>/dev/null || true
	wait "$server_pid" 2>/dev/null || true
}
trap cleanup EXIT
trap 'echo "interrupted" >&2; exit 130' INT TERM

# One python3 process listens on every ADDR:PORT given, accepts, closes.
python3 -u - "${LISTEN[@]}" >"$tmp/ready" <<'PY' &
import selectors, socket, sys
sel = selectors.DefaultSelector()
for ap in sys.argv[1:]:
    a, p = ap.rsplit(":", 1)
    s = socket.socket()
    s.bind((a, int(p)))
    s.listen(4096)
    sel.register(s, selectors.EVENT_READ)
print("ready", flush=True)
while True:
    for key, _ in sel.select():
        c, _ = key.fileobj.accept()
        c.close()
PY
server_pid=$!
for ((i = 0; i < 500; i++)); do [[ -s $tmp/ready ]] && break; sleep 0.01; done
[[ -s $tmp/ready ]] || die "the listeners did not start"

# The two cases: what each tool runs, and what it must report open
# (ADDR:PORT, sorted).
declare -A CMD_SONDE=(
	[full]="$SONDE scan -n 127.0.0.1 1-65535"
	[hosts]="$SONDE scan -n 127.1.0.0/22 $MULTI_PORTS"
)
declare -A CMD_NMAP=(
	[full]="nmap -sT -Pn -n -T5 -p1-65535 127.0.0.1 -oG -"
	[hosts]="nmap -sT -Pn -n -T5 -p$MULTI_PORTS 127.1.0.0/22 -oG -"
)
declare -A WANT=(
	[full]=$(printf '127.0.0.1:%s\n' "${OPEN_PORTS[@]}" | sort | paste -sd, -)
	[hosts]=$(printf '%s\n' "${MULTI_LISTEN[@]}" | sort | paste -sd, -)
)
CASES=(full hosts)
echo "commands (in a private network namespace):"
for c in "${CASES[@]}"; do
	echo "  $c: listeners on ${WANT[$c]}"
	echo "    sonde: ${CMD_SONDE[$c]}"
	echo "    nmap:  ${CMD_NMAP[$c]}"
done
echo "  $(nmap --version | head -1)"
echo

# open_sonde / open_nmap: the ADDR:PORT a run reported open, sorted and
# comma-separated. sonde: the rows of its report table, under the
# heading of their host when it scans many ("HOST: counts").
open_sonde() {
	awk -v one="$1" '
		/^[0-9a-f.:]+: [0-9]+ open/ { host = substr($1, 1, length($1) - 1); next }
		/^[0-9]+\/tcp +open/ { split($1, p, "/"); print (one != "" ? one : host) ":" p[1] }
	' | sort | paste -sd, -
}
open_nmap() {
	awk '/^Host: .*Ports:/ {
		n = split($0, f, /[ ,\t]+/)
		for (i = 1; i <= n; i++) if (f[i] ~ /^[0-9]+\/open\/tcp/) { split(f[i], p, "/"); print $2 ":" p[1] }
	}' | sort | paste -sd, -
}

# run CASE TOOL: one timed scan; sets MS (wall), CPU (user + system, ms)
# and OPEN. The CPU time is steadier than the wall time on a shared machine.
run() {
	local t0 t1 out cmd one=
	case $2 in
	sonde) cmd=${CMD_SONDE[$1]} ;;
	nmap) cmd=${CMD_NMAP[$1]} ;;
	esac
	[[ $1 == full ]] && one=127.0.0.1 # a scan of one host has no headings
	t0=$EPOCHREALTIME
	out=$(timeout 300 /usr/bin/time -o "$tmp/cpu" -f '%U %S' $cmd 2>&1) || die "$2 failed: $out"
	t1=$EPOCHREALTIME
	case $2 in
	sonde) OPEN=$(open_sonde "$one" <<<"$out") ;;
	nmap) OPEN=$(open_nmap <<<"$out") ;;
	esac
	MS=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", (b - a) * 1000}')
	CPU=$(awk '{printf "%.0f", ($1 + $2) * 1000}' "$tmp/cpu")
}

median() { sort -g | awk '{v[NR]=$1} END {if (NR % 2) print v[(NR+1)/2]; else printf "%.0f\n", (v[NR/2]+v[NR/2+1])/2}'; }

declare -A times cpus
mismatch=0
for ((r = 1; r <= ROUNDS; r++)); do
	for c in "${CASES[@]}"; do
		order=(sonde nmap)
		((r % 2)) || order=(nmap sonde)
		line="round $r, $c:"
		for tool in "${order[@]}"; do
			run "$c" "$tool"
			times[$c.$tool]+="$MS "
			cpus[$c.$tool]+="$CPU "
			line+=" $tool ${MS} ms (cpu ${CPU} ms)"
			if [[ $OPEN != "${WANT[$c]}" ]]; then
				line+=" (open: $OPEN, WRONG)"
				mismatch=1
			fi
		done
		note "$line"
	done
done

same=$([[ $mismatch == 0 ]] && echo "yes, every run" || echo "NO")
echo "results (medians of $ROUNDS rounds, wall time of the whole command):"
echo "| case | tool | wall (ms) | best round (ms) | CPU, user + system (ms) | open ports reported | exactly the listeners |"
echo "|---|---|---|---|---|---|---|"
declare -A med best cpu
for c in "${CASES[@]}"; do
	for tool in sonde nmap; do
		med[$c.$tool]=$(tr ' ' '\n' <<<"${times[$c.$tool]}" | grep . | median)
		cpu[$c.$tool]=$(tr ' ' '\n' <<<"${cpus[$c.$tool]}" | grep . | median)
		# The best round of each tool is the nearest to an idle machine.
		best[$c.$tool]=$(tr ' ' '\n' <<<"${times[$c.$tool]}" | grep . | sort -g | head -1)
	done
	echo "| $c | sonde scan | ${med[$c.sonde]} | ${best[$c.sonde]} | ${cpu[$c.sonde]} | ${WANT[$c]} | $same |"
	echo "| $c | nmap -sT -T5 | ${med[$c.nmap]} | ${best[$c.nmap]} | ${cpu[$c.nmap]} | ${WANT[$c]} | $same |"
done
echo
for c in "${CASES[@]}"; do
	ratio=$(awk -v s="${med[$c.sonde]}" -v n="${med[$c.nmap]}" 'BEGIN {printf "%.2f", n / s}')
	verdict=$(awk -v r="$ratio" 'BEGIN {print (r >= 2) ? "PASS" : "MISS"}')
	echo "$c: nmap / sonde, median wall time: $ratio (target >= 2: **$verdict**);" \
		"best rounds: $(awk -v s="${best[$c.sonde]}" -v n="${best[$c.nmap]}" 'BEGIN {printf "%.2f", n / s}');" \
		"CPU time: $(awk -v s="${cpu[$c.sonde]}" -v n="${cpu[$c.nmap]}" 'BEGIN {printf "%.2f", n / s}')"
done

# Reference: nc.openbsd -z, one run, to show what self-connections do to a
# scanner that does not check for them.
if command -v nc.openbsd >/dev/null; then
	t0=$EPOCHREALTIME
	out=$(timeout 300 nc.openbsd -z -v -w 1 127.0.0.1 1-65535 2>&1 || true)
	t1=$EPOCHREALTIME
	ncopen=$(grep -o '127.0.0.1 [0-9]* port' <<<"$out" | cut -d' ' -f2 | sort -n | paste -sd, -)
	want=$(printf '%s\n' "${OPEN_PORTS[@]}" | sort -n | paste -sd, -)
	extra=$(comm -13 <(tr , '\n' <<<"$want" | sort) <(tr , '\n' <<<"$ncopen" | sort) | sort -n | paste -sd, -)
	echo "reference, one run: nc.openbsd -z -v -w 1 127.0.0.1 1-65535: $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", (b - a) * 1000}') ms," \
		"reported open: $ncopen (not listening, so self-connections: ${extra:-none this time})"
fi
((mismatch == 0)) || exit 1
