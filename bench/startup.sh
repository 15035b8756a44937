#!/usr/bin/env bash
# bench/startup.sh — what a process start of sonde costs, against a static
# Go hello world built in the same run. See bench/README.md.
#
#   bash bench/startup.sh [ROUNDS]        (default 200 rounds, at least 100)
#
# Only 127.0.0.1 is used, on a port the kernel picks for the benchmark's own
# listener. Every run is bounded (startloop kills a run after 10 s), every
# loop has a fixed count, and the listener is killed on exit.
set -euo pipefail

ROUNDS=${1:-200}
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] && ((ROUNDS >= 100)) ||
	{ echo "usage: bash bench/startup.sh [ROUNDS]; ROUNDS is a whole number, 100 or more" >&2; exit 2; }

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init startup

for t in go python3; do have "$t" || die "$t is required"; done

# sonde and the floor as the README builds sonde (static, without
# urfave/cli's docs generator), a plain go build of sonde and the release
# build for reference, and a static hello world: the Go floor.
note "building sonde, the libraries' floor, the hello world and the clock"
(cd "$repo" && CGO_ENABLED=0 go build -tags urfave_cli_no_docs -o "$tmp/sonde-readme" .) || die "go build failed"
(cd "$repo" && go build -o "$tmp/sonde-plain" .) || die "go build (plain) failed"
(cd "$repo" && CGO_ENABLED=0 go build -tags urfave_cli_no_docs -o "$tmp/startfloor" ./bench/startfloor) || die "go build (startfloor) failed"
(cd "$repo" && go build -o "$tmp/startloop" ./bench/startloop) || die "go build (startloop) failed"
build_sonde
mkdir "$tmp/hello"
cat >"$tmp/hello/main.go" <<'EOF'
package main

import "fmt"

func main() { fmt.Println("hello, world") }
EOF
printf 'module hello\n\ngo 1.21\n' >"$tmp/hello/go.mod"
(cd "$tmp/hello" && CGO_ENABLED=0 go build -o "$tmp/hello-static" .) || die "go build (hello world) failed"

# A neutral server: accept, close, forever. It sets PORT.
accept_close_server

cmds=(
	"hello=$tmp/hello-static"
	"sonde-z=$tmp/sonde-readme -z 127.0.0.1 $PORT"
	"sonde-version=$tmp/sonde-readme --version"
	"floor=$tmp/startfloor --version"
	"sonde-z-release=$SONDE -z 127.0.0.1 $PORT"
	"sonde-z-plain=$tmp/sonde-plain -z 127.0.0.1 $PORT"
)
have nc.openbsd && cmds+=("nc-z=nc.openbsd -z 127.0.0.1 $PORT")

echo "commands (sonde: CGO_ENABLED=0 go build -tags urfave_cli_no_docs -o sonde . as the README has it; plain: go build -o sonde .; floor: built as the README builds sonde; release: CGO_ENABLED=0 -trimpath -tags urfave_cli_no_docs -ldflags '-s -w'):"
for c in "${cmds[@]}"; do echo "  ${c%%=*}: ${c#*=}"; done
echo "sizes: sonde $(stat -c %s "$tmp/sonde-readme") B, release $(stat -c %s "$SONDE") B, floor $(stat -c %s "$tmp/startfloor") B, hello $(stat -c %s "$tmp/hello-static") B"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

t0=$EPOCHREALTIME
"$tmp/startloop" -n "$ROUNDS" "${cmds[@]}" >"$tmp/out" || die "a run failed (sonde -z must find the port open)"
t1=$EPOCHREALTIME

declare -A med p10 p90
while read -r name m a b _; do
	med[$name]=${m#median_ms=} p10[$name]=${a#p10_ms=} p90[$name]=${b#p90_ms=}
done <"$tmp/out"

H=${med[hello]}
printf '%-16s %10s %10s %10s %14s\n' "" "median ms" "p10 ms" "p90 ms" "÷ hello world"
for c in "${cmds[@]}"; do
	n=${c%%=*}
	printf '%-16s %10s %10s %10s %14s\n' "$n" "${med[$n]}" "${p10[$n]}" "${p90[$n]}" "$(ratio "${med[$n]}" "$H")"
done
echo
rz=$(ratio "${med[sonde-z]}" "$H") rv=$(ratio "${med[sonde-version]}" "$H")
echo "sonde -z ÷ hello world: $rz (target ≤ 2.3: $(verdict "$rz" '<=' 2.3))"
echo "sonde --version ÷ hello world: $rv (target ≤ 2.3: $(verdict "$rv" '<=' 2.3))"
echo "sonde -z − floor: $(awk -v a="${med[sonde-z]}" -v b="${med[floor]}" 'BEGIN {printf "%.2f", a - b}') ms; sonde --version − floor: $(awk -v a="${med[sonde-version]}" -v b="${med[floor]}" 'BEGIN {printf "%.2f", a - b}') ms"
echo "$ROUNDS interleaved rounds in $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}') s; load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
