#!/usr/bin/env bash
# Instructions per proxied request, counted by valgrind (callgrind) in the proxy's own process:
# user-space work only (the kernel's share is not counted), and the same count whatever else the
# machine is doing, so a change to the hot path can be compared when wall-clock figures on a
# shared VM swing by 2x (bench/README.md). Each proxy forwards HTTP/1.1 keep-alive requests from
# autocannon (50 connections) on loopback to one nginx upstream with a 2-byte body:
#   legate  `legate proxy router` (a Gateway + VirtualService: HCM, route, router, pool, stats)
#   haproxy mode http, http-reuse always; nginx proxy_pass with upstream keepalive;
#   http-proxy, fastify  the benchmark's Node peers (bench/servers/node_proxy.ts);
#   legate-tcp, haproxy-tcp  the same requests forwarded as bytes (tcp_proxy; haproxy mode tcp):
#   what reading and writing the sockets costs without any HTTP work, Legate's floor in Node;
#   legate-sidecar  the benchmark's legate-http path: `legate proxy sidecar`, a ServiceEntry with
#   an HTTP port, clients in a network namespace whose iptables REDIRECT sends them to 15001
#   (needs root; the proxy runs as root there, see sidecar_target below).
# Counting starts after two warm-ups (the JIT has settled) and covers N requests.
#
#   bench/instructions.sh [N=5000] [targets=legate,haproxy,nginx]   (after npm run build; needs valgrind)
#   (targets may also name http-proxy, fastify, legate-tcp, haproxy-tcp and legate-sidecar)
#   BENCH_LEGATE_NODE_ARGS="...": extra node/V8 flags for Legate's process, as for bench/run.ts.
#   PROFILE=DIR: also keep Legate's worker profile and V8's code map in DIR and print its
#   costliest functions per request, JIT-compiled JS by name (bench/callgrind_names.ts), as
#   DIR/legate.* (legate-tcp.* for the tcp_proxy target).
set -euo pipefail
N=${1:-5000}
TARGETS=${2:-legate,haproxy,nginx}
WARM=${WARM:-15000}
REPO=$(cd "$(dirname "$0")/.." && pwd)
AC="$REPO/node_modules/.bin/autocannon"
W=$(mktemp -d /tmp/legate-instr-XXXXXX)
UP=18080 PORT=18000
NS="" # the legate-sidecar target's network namespace, once made
cleanup() {
  kill $(cat "$W"/*.pid 2>/dev/null) 2>/dev/null || true
  if [ -n "$NS" ]; then
    for p in $(ip netns pids "$NS" 2>/dev/null); do kill $p; done
    sleep 0.5
    ip netns del "$NS" 2>/dev/null || true
  fi
  rm -rf "$W"
}
trap cleanup EXIT
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }

. "$REPO/bench/router_setup.sh"
router_setup "$W" $UP $PORT "$REPO"
peer_config haproxy "$W/haproxy.cfg" $PORT $UP
peer_config haproxy-tcp "$W/haproxy-tcp.cfg" $PORT $UP
peer_config nginx "$W/nginx.conf" $PORT $UP

# Where the clients send, and what runs them and the proxy (the sidecar target: its namespace).
URL="http://127.0.0.1:$PORT/"
CLIENT=()
# What the proxy process answers between its own requests, to wake valgrind (see control).
IDLE_URL=""

# callgrind_control, waited for. Valgrind takes a command only while the process runs; Legate's
# sidecar in its namespace may sit idle in epoll_wait, so its admin port is polled (the main
# thread: the worker thread's count is untouched) until the command is answered.
control() {
  callgrind_control "$@" >/dev/null 2>&1 &
  local cc=$!
  if [ -n "$IDLE_URL" ]; then
    while kill -0 $cc 2>/dev/null; do "${CLIENT[@]}" curl -s -o /dev/null -m 2 "$IDLE_URL" || true; sleep 0.05; done
  fi
  wait $cc || true
}

count() { # target command...
  local target=$1; shift
  rm -f "$W"/cg.*
  # ip netns exec execs valgrind (which does not follow an exec itself): $! is valgrind's pid.
  "${CLIENT[@]}" valgrind --tool=callgrind --instr-atstart=no --separate-threads=yes --smc-check=all-non-file \
    --callgrind-out-file="$W/cg.%p" "$@" >"$W/$target.log" 2>&1 &
  local pid=$!
  echo $pid > "$W/proxy.pid"
  for _ in $(seq 300); do "${CLIENT[@]}" curl -s -o /dev/null -m 2 "$URL" && break; sleep 1; done
  "${CLIENT[@]}" "$AC" -c 50 -a "$WARM" "$URL" >/dev/null 2>&1
  # Its connections closing takes paths the warm-up never took: V8 deoptimises the functions on
  # them (and those inlining them), and recompiles them on helper threads, which valgrind runs
  # late. A second, shorter warm-up on fresh connections lets that settle before counting.
  "${CLIENT[@]}" "$AC" -c 50 -a "$((WARM / 3))" "$URL" >/dev/null 2>&1
  control -i on $pid
  "${CLIENT[@]}" "$AC" -c 50 -a "$N" "$URL" >"$W/ac.log" 2>&1
  control -d $pid
  kill $pid; wait $pid 2>/dev/null || true
  if [ -n "${PROFILE:-}" ] && [[ "$target" = legate* ]]; then
    mkdir -p "$PROFILE"
    local busiest_file
    busiest_file=$(grep -H '^summary:' "$W"/cg.*.1-* | sort -t' ' -k2 -n | tail -1 | cut -d: -f1)
    cp "$busiest_file" "$PROFILE/$target.callgrind"
    mv "/tmp/perf-$pid.map" "$PROFILE/$target.perf.map"
    node "$REPO/dist/bench/callgrind_names.js" "$PROFILE/$target.callgrind" "$PROFILE/$target.perf.map" "$N" > "$PROFILE/$target.functions.txt"
  fi
  # One file per thread. V8 compiles on helper threads for a while after the warm-up, which
  # moves the total by about 10 % between runs; the busiest thread (Legate's worker, the only
  # thread of HAProxy and nginx here, the Node peers' main thread) is the data path and repeats within about 2 %.
  local total busiest
  total=$(grep -h '^summary:' "$W"/cg.*.1-* | awk '{s += $2} END {printf "%d", s}')
  busiest=$(grep -h '^summary:' "$W"/cg.*.1-* | awk '$2 > m {m = $2} END {printf "%d", m}')
  grep -q "$N requests in\|$((N / 1000))k requests in" "$W/ac.log" || { echo "$target: autocannon did not complete $N requests" >&2; cat "$W/ac.log" >&2; exit 1; }
  if grep -q "non 2xx" "$W/ac.log"; then echo "$target: non-2xx responses" >&2; exit 1; fi
  printf '%-12s %16s %16s\n' "$target" "$(( busiest / N ))" "$(( total / N ))"
}

# legate-sidecar: a namespace as bench/lib/netns.ts makes one (loopback, the VIP range routed to
# it, REDIRECT to 15001 for every owner but the proxy's uid) with its own upstream nginx, and a
# ServiceEntry mapping the VIP's HTTP port to it, as the legate-http target configures. The proxy
# runs as root, not uid 1337: callgrind_control cannot reach a valgrind running as another user
# here, and the REDIRECT rule only matches the VIP range, which the proxy never dials itself.
sidecar_target() {
  NS=legate-instr-$$
  local X=(ip netns exec "$NS")
  ip netns add "$NS"
  "${X[@]}" ip link set lo up
  "${X[@]}" ip route add 240.240.0.0/16 dev lo src 127.0.0.1
  "${X[@]}" iptables -t nat -A OUTPUT -p tcp -d 240.240.0.0/16 -m owner ! --uid-owner 1337 -j REDIRECT --to-ports 15001
  mkdir -p "$W/sidecar"
  sed "s#$W/upstream.pid#$W/sidecar/upstream.pid#; s#$W/upstream.err#$W/sidecar/upstream.err#" "$W/upstream.conf" > "$W/sidecar/upstream.conf"
  "${X[@]}" nginx -c "$W/sidecar/upstream.conf"
  mkdir -p "$W/conf-sidecar"
  node --input-type=module -e "
    const c = await import('$REPO/dist/bench/lib/legate_config.js');
    process.stdout.write([c.MESH_YAML, c.serviceEntry({ name: 'upstream', vip: '240.240.0.1', port: 8080, endpointPort: $UP, protocol: 'HTTP' })].join('---\\n'));" > "$W/conf-sidecar/bench.yaml"
  CLIENT=("${X[@]}")
  URL="http://240.240.0.1:8080/"
  IDLE_URL="http://127.0.0.1:15000/ready"
}

echo "instructions per request (callgrind, user space, proxy process only; $N requests after $WARM and $((WARM / 3)))"
printf '%-12s %16s %16s\n' target "busiest thread" "all threads"
for t in ${TARGETS//,/ }; do
  case $t in
    legate) count legate node ${PROFILE:+--perf-basic-prof} ${BENCH_LEGATE_NODE_ARGS:-} "$REPO/bin/legate.js" proxy router --config "$W/conf" --concurrency 1 --admin-port 15500 ;;
    legate-tcp) count legate-tcp node ${PROFILE:+--perf-basic-prof} ${BENCH_LEGATE_NODE_ARGS:-} "$REPO/bin/legate.js" proxy router --config "$W/conf-tcp" --concurrency 1 --admin-port 15500 ;;
    legate-sidecar)
      [ -n "$NS" ] || sidecar_target
      count legate-sidecar node ${PROFILE:+--perf-basic-prof} ${BENCH_LEGATE_NODE_ARGS:-} "$REPO/bin/legate.js" proxy sidecar --config "$W/conf-sidecar" --concurrency 1 --accept-mode handoff
      CLIENT=() URL="http://127.0.0.1:$PORT/" IDLE_URL="" ;;
    haproxy) count haproxy haproxy -db -f "$W/haproxy.cfg" ;;
    haproxy-tcp) count haproxy-tcp haproxy -db -f "$W/haproxy-tcp.cfg" ;;
    http-proxy|fastify) count $t node "$REPO/dist/bench/servers/node_proxy.js" $t $PORT $UP 1 ;;
    nginx) count nginx nginx -c "$W/nginx.conf" ;;
    *) echo "unknown target $t" >&2; exit 2 ;;
  esac
done
