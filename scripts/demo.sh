#!/usr/bin/env bash
# A sidecar in a throw-away "pod" network namespace: `legate iptables` captures the pod's
# traffic, the proxy runs as uid 1337, and curl (as another uid) reaches a server in a second
# namespace through 15001. Everything is removed on exit. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (it creates network namespaces and iptables rules)" >&2; exit 1; }
[ -f dist/src/cli.js ] || npm run build >/dev/null
pod=legate-demo-pod-$$; remote=legate-demo-remote-$$; tmp=$(mktemp -d)
cleanup() {
  ip netns pids "$pod" 2>/dev/null | xargs -r kill 2>/dev/null || true
  ip netns pids "$remote" 2>/dev/null | xargs -r kill 2>/dev/null || true
  ip netns del "$pod" 2>/dev/null || true; ip netns del "$remote" 2>/dev/null || true; rm -rf "$tmp"
}
trap cleanup EXIT
ip netns add "$pod"; ip netns add "$remote"
ip link add "vp$$" type veth peer name "vr$$"
ip link set "vp$$" netns "$pod"; ip link set "vr$$" netns "$remote"
ip -n "$pod" addr add 10.99.0.2/24 dev "vp$$"; ip -n "$remote" addr add 10.99.0.3/24 dev "vr$$"
for ns in "$pod" "$remote"; do ip -n "$ns" link set lo up; done
ip -n "$pod" link set "vp$$" up; ip -n "$remote" link set "vr$$" up
chmod 755 "$tmp"; echo "hello from the remote host" > "$tmp/index.html"
ip netns exec "$remote" python3 -m http.server 80 --bind 10.99.0.3 --directory "$tmp" >/dev/null 2>&1 &
ip netns exec "$pod" node bin/legate.js iptables
ip netns exec "$pod" setpriv --reuid=1337 --regid=1337 --clear-groups node bin/legate.js proxy sidecar --config config/default.yaml --concurrency 2 2>"$tmp/proxy.log" &
for _ in $(seq 50); do ip netns exec "$pod" curl -sf -o /dev/null 127.0.0.1:15021/healthz/ready && break; sleep 0.1; done
echo "\$ curl http://10.99.0.3/   (as uid 1000 in the pod; iptables sends it to the sidecar on 15001)"
ip netns exec "$pod" setpriv --reuid=1000 --regid=1000 --clear-groups curl -sS --max-time 5 http://10.99.0.3/
echo "\$ curl -s 127.0.0.1:15000/stats | grep PassthroughCluster   (the proxy's admin)"
ip netns exec "$pod" curl -s 127.0.0.1:15000/stats | grep -E '^cluster\.PassthroughCluster\.upstream_cx_(total|tx_bytes_total|rx_bytes_total)'
