#!/usr/bin/env bash
# Paired wall-clock A/B on the router path: CPU per request of two proxies that run at the same
# time, both pinned to cpu 0 (A on 18000, B on 18001), wrk and an nginx upstream on cpu 1. Short
# wrk windows take turns, A B B A, so that the VM's drift, which moves this VM's figures by up to
# 2x within a minute, falls on both sides of every pair; the idle one uses next to no CPU.
# A and B are each a built checkout of Legate (npm ci, tsc; e.g. a `git worktree` of the base
# commit) or `nginx` / `haproxy`, configured as for bench/instructions.sh (router_setup.sh).
# CPU_AB_MODE=tcp forwards the same requests as bytes instead: Legate's tcp_proxy (a TCP Gateway
# server and route) and HAProxy mode tcp (nginx is not offered there).
#
#   bench/cpu_ab.sh A B [rounds=8] [seconds=3]   (needs wrk, nginx, curl, taskset; haproxy if named)
set -euo pipefail
A=$1; B=$2; ROUNDS=${3:-8}; SECS=${4:-3}
MODE=${CPU_AB_MODE:-http}
case "$MODE" in http) PROTOCOL=HTTP HAPROXY=haproxy ;; tcp) PROTOCOL=TCP HAPROXY=haproxy-tcp ;; *) echo "CPU_AB_MODE is http or tcp" >&2; exit 2 ;; esac
REPO=$(cd "$(dirname "$0")/.." && pwd)
UP=18080
W=$(mktemp -d /tmp/legate-ab-XXXXXX)
trap 'kill $(cat "$W"/*.pid 2>/dev/null) 2>/dev/null || true; rm -rf "$W"' EXIT
. "$REPO/bench/router_setup.sh"
router_setup "$W" $UP 18000 "$REPO" 1

start() { # target port admin-port
  local target=$1 port=$2 admin=$3
  case "$target" in
    nginx)
      [ "$MODE" = http ] || { echo "cpu_ab: nginx is an HTTP peer only" >&2; exit 2; }
      peer_config nginx "$W/nginx.$port.conf" "$port" $UP
      taskset -c 0 nginx -c "$W/nginx.$port.conf" & ;;
    haproxy)
      peer_config $HAPROXY "$W/haproxy.$port.cfg" "$port" $UP
      taskset -c 0 haproxy -db -f "$W/haproxy.$port.cfg" & ;;
    *)
      local repo
      repo=$(cd "$target" && pwd)
      # Written by this checkout's bench for both sides: the same YAML whatever A and B are.
      gateway_config "$W/conf.$port" "$port" $UP "$REPO" $PROTOCOL
      taskset -c 0 node "$repo/bin/legate.js" proxy router --config "$W/conf.$port" --concurrency 1 --admin-port "$admin" \
        --status-port $((admin + 1)) --readiness-port $((admin + 2)) --prometheus-port $((admin + 3)) >"$W/legate.$port.log" 2>&1 & ;;
  esac
  echo $! > "$W/$port.pid"
  for _ in $(seq 100); do curl -s -o /dev/null -m 1 "http://127.0.0.1:$port/" && return 0; sleep 0.2; done
  echo "cpu_ab: $target did not answer on $port" >&2; exit 1
}

window() { # port → "total user kernel req/s" for one wrk window
  local pid before after n
  pid=$(cat "$W/$1.pid")
  before=$(awk '{print $14, $15}' "/proc/$pid/stat")
  taskset -c 1 wrk -t1 -c50 -d"${SECS}s" "http://127.0.0.1:$1/" >"$W/wrk.log" 2>&1
  after=$(awk '{print $14, $15}' "/proc/$pid/stat")
  grep -q "Non-2xx" "$W/wrk.log" && { echo "cpu_ab: non-2xx answers on $1" >&2; exit 1; }
  n=$(awk '/requests in/{print $1}' "$W/wrk.log")
  awk -v n="$n" -v s="$SECS" -v hz="$(getconf CLK_TCK)" -v b="$before" -v a="$after" 'BEGIN {
    split(b, x, " "); split(a, y, " "); u = (y[1] - x[1]) * 1e6 / hz / n; k = (y[2] - x[2]) * 1e6 / hz / n
    printf "%.1f %.1f %.1f %.0f", u + k, u, k, n / s }'
}

start "$A" 18000 15500
start "$B" 18001 15600
for _ in 1 2; do window 18000 >/dev/null; window 18001 >/dev/null; done # warm-up: the JIT settles

echo "CPU µs per request, router path ($MODE), ${SECS} s windows (A: $A, B: $B)"
printf '%-5s %8s %8s %8s %8s   %8s %8s %8s %8s   %6s\n' round A A_user A_kern A_rq/s B B_user B_kern B_rq/s B/A
for r in $(seq "$ROUNDS"); do
  if [ $((r % 2)) -eq 1 ]; then a=$(window 18000); b=$(window 18001); else b=$(window 18001); a=$(window 18000); fi
  echo "$r $a $b" | awk '{ printf "%-5d %8.1f %8.1f %8.1f %8d   %8.1f %8.1f %8.1f %8d   %6.2f\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $6 / $2 }'
done | tee "$W/rounds"
sort -n -k10 "$W/rounds" | awk '{ r[NR] = $10 } END { m = NR % 2 ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2; printf "median B/A %.2f (%d rounds, range %.2f–%.2f)\n", m, NR, r[1], r[NR] }'
