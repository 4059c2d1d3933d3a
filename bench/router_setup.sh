# Sourced by bench/instructions.sh and bench/cpu_ab.sh: the router path they both measure.
# router_setup DIR UPSTREAM_PORT LISTEN_PORT REPO [cpu]: writes DIR/conf/gateway.yaml and, for
# the tcp_proxy variant, DIR/conf-tcp/gateway.yaml (see gateway_config) and starts an nginx
# upstream on 127.0.0.1:UPSTREAM_PORT serving a 2-byte body (on `cpu` when given).
# gateway_config and peer_config write each proxy's configuration.
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
  gateway_config "$dir/conf" "$port" "$up" "$repo"
  gateway_config "$dir/conf-tcp" "$port" "$up" "$repo" TCP
}

# gateway_config CONF_DIR LISTEN_PORT UPSTREAM_PORT REPO [HTTP|TCP]: CONF_DIR/gateway.yaml for
# `legate proxy router`, the same Gateway and VirtualService as the legate-gateway-http target of
# bench/run.ts (TCP: a TCP server and route instead, forwarded by tcp_proxy).
gateway_config() {
  mkdir -p "$1"
  node --input-type=module -e "
    const { gatewayYaml } = await import('$4/dist/bench/lib/targets/legate_gateway.js');
    process.stdout.write(gatewayYaml($2, $3, undefined, '${5:-HTTP}'));" > "$1/gateway.yaml"
}

# peer_config nginx|haproxy|haproxy-tcp FILE LISTEN_PORT UPSTREAM_PORT: a one-worker, one-thread
# peer in the foreground forwarding HTTP/1.1 keep-alive to the upstream (nginx proxy_pass with
# upstream keepalive; haproxy mode http, http-reuse always), or bytes (haproxy mode tcp, one
# upstream connection per client connection). Run with `nginx -c FILE` / `haproxy -db -f FILE`.
peer_config() {
  local kind=$1 file=$2 port=$3 up=$4
  case "$kind" in
    nginx) cat > "$file" <<EOC
worker_processes 1; daemon off; master_process off; pid $file.pid; error_log $file.err;
events { worker_connections 4096; }
http {
  access_log off;
  upstream up { server 127.0.0.1:$up; keepalive 64; }
  server { listen 127.0.0.1:$port; keepalive_requests 1000000;
    location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection ""; } }
}
EOC
    ;;
    haproxy|haproxy-tcp) local mode=http reuse=$'  option http-keep-alive\n  http-reuse always'
      [ "$kind" = haproxy-tcp ] && mode=tcp reuse=""
      cat > "$file" <<EOC
global
  nbthread 1
defaults
  mode $mode
  timeout connect 5s
  timeout client 60s
  timeout server 60s
$reuse
frontend fe
  bind 127.0.0.1:$port
  default_backend be
backend be
  server up 127.0.0.1:$up
EOC
    ;;
    *) echo "peer_config: unknown peer $kind" >&2; return 2 ;;
  esac
}
