# Sourced by bench/instructions.sh and bench/cpu_ab.sh: the router path they both measure.
# router_setup DIR UPSTREAM_PORT LISTEN_PORT REPO [cpu]: writes DIR/conf/gateway.yaml (the same
# Gateway and VirtualService as the legate-gateway-http target of bench/run.ts) and starts an
# nginx upstream on 127.0.0.1:UPSTREAM_PORT serving a 2-byte body (on `cpu` when given).
router_setup() {
  local dir=$1 up=$2 port=$3 repo=$4 cpu=${5:-}
  mkdir -p "$dir/www" "$dir/conf"
  # nginx's workers run as nobody: a mktemp -d directory (mode 700) would answer every request 403.
  chmod 755 "$dir"
  printf ok > "$dir/www/index.html"
  cat > "$dir/upstream.conf" <<EOC
worker_processes 1; daemon on; pid $dir/upstream.pid; error_log $dir/upstream.err;
events { worker_connections 1024; }
http { access_log off; keepalive_requests 1000000; server { listen 127.0.0.1:$up; root $dir/www; } }
EOC
  if [ -n "$cpu" ]; then taskset -c "$cpu" nginx -c "$dir/upstream.conf"; else nginx -c "$dir/upstream.conf"; fi
  local code=000
  for _ in $(seq 50); do
    code=$(curl -s -o /dev/null -m 1 -w '%{http_code}' "http://127.0.0.1:$up/" || true)
    [ "$code" = 000 ] || break
    sleep 0.1
  done
  [ "$code" = 200 ] || { echo "router_setup: the upstream answered $code, not 200" >&2; return 1; }
  node --input-type=module -e "
    const { gatewayYaml } = await import('$repo/dist/bench/lib/targets/legate_gateway.js');
    process.stdout.write(gatewayYaml($port, $up));" > "$dir/conf/gateway.yaml"
}
