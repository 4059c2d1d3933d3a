#!/usr/bin/env bash
# Starts the tutorial's workloads in tut-node, as nobody: reviews v1/v2/v3 (HTTP, port 9080,
# one address each), the "external" API httpbin.external.example (203.0.113.10:80), and two
# "databases" on port 3306 that greet with their name (203.0.113.21 and .22).
set -euo pipefail
cd "$(dirname "$0")"
LOG=/tmp/legate-tutorial/servers.log
start() { ip netns exec tut-node setpriv --reuid=65534 --regid=65534 --clear-groups node server.mjs "$@" >>"$LOG" 2>&1 & }
: >"$LOG"
start http reviews-v1 10.77.0.11:9080
start http reviews-v2 10.77.0.12:9080
start http reviews-v3 10.77.0.13:9080
start echo httpbin 203.0.113.10:80
start banner db1 203.0.113.21:3306
start banner db2 203.0.113.22:3306
for _ in $(seq 100); do [ "$(grep -c listening "$LOG")" -eq 6 ] && break; sleep 0.1; done
sort "$LOG"
