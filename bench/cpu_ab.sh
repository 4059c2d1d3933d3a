#!/usr/bin/env bash
# Interleaved wall-clock A/B of two builds on the router path: CPU per request of the proxy
# process (user and kernel, from /proc/<pid>/stat), the proxy pinned to cpu 0 and autocannon
# and an nginx upstream on cpu 1, runs of A and B alternating so that the VM's drift hits both.
# Use it beside bench/instructions.sh when a change is too small to see in a full bench run.
#
#   bench/cpu_ab.sh REPO_A REPO_B [pairs=4] [requests=150000]   (each REPO built: npm ci, tsc)
set -euo pipefail
A=$(cd "$1" && pwd); B=$(cd "$2" && pwd); PAIRS=${3:-4}; N=${4:-150000}
AC="$B/node_modules/.bin/autocannon"
UP=18080 PORT=18000
W=$(mktemp -d /tmp/legate-ab-XXXXXX)
trap 'kill $(cat "$W"/*.pid 2>/dev/null) 2>/dev/null || true; rm -rf "$W"' EXIT
. "$(dirname "$0")/router_setup.sh"
router_setup "$W" $UP $PORT "$B" 1

run() { # label repo
  taskset -c 0 node "$2/bin/legate.js" proxy router --config "$W/conf" --concurrency 1 --admin-port 15500 >"$W/legate.log" 2>&1 &
  local pid=$!
  echo $pid > "$W/proxy.pid"
  for _ in $(seq 100); do curl -s -o /dev/null -m 1 "http://127.0.0.1:$PORT/" && break; sleep 0.2; done
  taskset -c 1 "$AC" -c 50 -a 60000 "http://127.0.0.1:$PORT/" >/dev/null 2>&1 # warm-up: the JIT settles
  local before after
  before=$(awk '{print $14, $15}' "/proc/$pid/stat")
  taskset -c 1 "$AC" -c 50 -a "$N" "http://127.0.0.1:$PORT/" >"$W/ac.log" 2>&1
  after=$(awk '{print $14, $15}' "/proc/$pid/stat")
  kill $pid; wait $pid 2>/dev/null || true
  grep -q "non 2xx" "$W/ac.log" && { echo "$1: non-2xx responses" >&2; exit 1; }
  awk -v label="$1" -v n="$N" -v hz="$(getconf CLK_TCK)" -v b="$before" -v a="$after" 'BEGIN {
    split(b, x, " "); split(a, y, " "); u = (y[1] - x[1]) * 1e6 / hz / n; s = (y[2] - x[2]) * 1e6 / hz / n
    printf "%-4s %8.1f %8.1f %8.1f\n", label, u + s, u, s }'
}

echo "CPU µs per request, router path, $N requests per run (A: $A, B: $B)"
printf '%-4s %8s %8s %8s\n' run total user kernel
for _ in $(seq "$PAIRS"); do run A "$A"; run B "$B"; done
