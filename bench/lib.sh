# bench/lib.sh — what the loopback benchmarks share. Sourced, not run:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   bench_init relay          # sets script_dir, repo, tmp; cleans up on exit
#
# Processes are started with `start CMD...` in a process group of their
# own (setsid) and killed by group on exit, or earlier with `stop PID`.
# Only 127.0.0.1 is ever used.

bench_name=${0##*/}
die() { echo "$bench_name: $*" >&2; exit 1; }
note() { echo "# $*" >&2; }
have() { command -v "$1" >/dev/null; }

# bench_init NAME: the repository, a temporary directory removed on exit
# (with every process group still running), and the signal traps.
bench_init() {
	script_dir=$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)
	repo=$(cd "$script_dir/.." && pwd)
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/sonde-bench-$1.XXXXXX")
	pids=() # process-group leaders we started (each via setsid)
	trap bench_cleanup EXIT
	trap 'echo "interrupted" >&2; exit 130' INT TERM
}

bench_cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}

# build_sonde: sonde as it is released (static, stripped, no docs
# generator), into $tmp/sonde; sets SONDE.
build_sonde() {
	note "building sonde from $repo"
	(cd "$repo" && CGO_ENABLED=0 go build -trimpath -tags urfave_cli_no_docs -ldflags "-s -w" -o "$tmp/sonde" .) ||
		die "go build failed"
	SONDE=$tmp/sonde
}

# start CMD...: run CMD in a process group of its own; its pid is STARTED.
start() {
	setsid -w "$@" &
	STARTED=$!
	pids+=("$STARTED")
}

forget_pid() {
	local p keep=()
	for p in "${pids[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
	pids=("${keep[@]}")
}

# stop PID: TERM its process group, wait (at most 10 s) for it to be gone,
# KILL it then.
stop() {
	local i
	kill -TERM -- "-$1" 2>/dev/null || kill -TERM "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	for ((i = 0; i < 200; i++)); do
		kill -0 -- "-$1" 2>/dev/null || break
		((i == 199)) && kill -KILL -- "-$1" 2>/dev/null
		sleep 0.05
	done
	forget_pid "$1"
}

# Ports: pick_port sets PORT to one that no TCP socket uses as its local or
# remote port, from 20000-40000, starting at a random place.
next_port=$((20000 + RANDOM % 20000))
PORT=
port_busy() {
	local hex
	printf -v hex ':%04X ' "$1"
	grep -q "$hex" /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
pick_port() {
	local i
	for ((i = 0; i < 2000; i++)); do
		next_port=$((next_port >= 40000 ? 20000 : next_port + 1))
		if ! port_busy "$next_port"; then
			PORT=$next_port
			return 0
		fi
	done
	die "no free port found in 20000-40000"
}
# wait_listen PORT: until 127.0.0.1:PORT is in LISTEN state (at most 5 s).
wait_listen() {
	local hex i
	printf -v hex '0100007F:%04X 00000000:0000 0A' "$1"
	for ((i = 0; i < 500; i++)); do
		grep -q "$hex" /proc/net/tcp && return 0
		sleep 0.01
	done
	return 1
}

# accept_close_server: a neutral server on 127.0.0.1 that accepts and
# closes, forever (backlog 4096), started with start; sets PORT to its port.
accept_close_server() {
	start python3 -u -c '
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(4096)
print(s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept(); c.close()
' >"$tmp/port"
	local i
	for ((i = 0; i < 500; i++)); do [[ -s $tmp/port ]] && break; sleep 0.01; done
	PORT=$(<"$tmp/port")
	[[ $PORT =~ ^[0-9]+$ ]] || die "the server did not start"
}

now_us() { local t=$EPOCHREALTIME; echo "${t//[.,]/}"; }

# ratio A B: A/B with two decimals, n/a when either is not positive.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a+0 > 0 && b+0 > 0) printf "%.2f", a/b; else printf "n/a"}'; }
# verdict VALUE OP LIMIT: PASS or MISS (OP is >= or <=), n/a for n/a.
verdict() {
	awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {if (v == "n/a") {print "n/a"; exit}
		ok = (op == ">=") ? (v+0 >= l+0) : (v+0 <= l+0); print ok ? "PASS" : "MISS"}'
}
