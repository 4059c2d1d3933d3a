#!/usr/bin/env bash
# The benchmark's peers and tools, from Debian packages: HAProxy, nginx (light, plus the stream
# module for the TCP scenarios), wrk, h2load (nghttp2-client), and what the network namespace
# needs (iproute2, iptables, util-linux's setpriv and taskset). Idempotent; needs root to install.
# The packaged services Debian may start are left alone: the benchmark runs its own instances,
# with its own configurations, inside its own network namespace.
set -euo pipefail
pkgs=(haproxy nginx-light libnginx-mod-stream wrk nghttp2-client iproute2 iptables util-linux procps)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -eq 0 ]; then echo "install-peers: all present (${pkgs[*]})"; exit 0; fi
if [ "$(id -u)" -ne 0 ]; then echo "install-peers: need root to install: ${missing[*]}" >&2; exit 1; fi
echo "install-peers: installing ${missing[*]}"
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
