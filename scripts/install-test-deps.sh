#!/usr/bin/env bash
# Debian packages the end-to-end tests use: iptables and iproute2 for network namespaces,
# real clients (curl, dig, nc, wrk), setpriv (util-linux) to run as uid 1337, dnsmasq as a
# real DNS server, python3-grpcio as an independent xDS client of `legate xds-server`,
# nghttp2-client (h2load) as an HTTP/2 load client, openssl (s_client / s_server / verify) for
# the TLS tests, valgrind (memcheck over the native HTTP/1.1 addon). Idempotent.
set -euo pipefail
pkgs=(iptables iproute2 curl dnsutils netcat-openbsd dnsmasq-base procps util-linux wrk python3-grpcio nghttp2-client openssl valgrind)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then echo "install-test-deps: need root to install: ${missing[*]}" >&2; exit 1; fi
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
fi
