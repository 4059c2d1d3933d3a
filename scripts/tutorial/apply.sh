#!/usr/bin/env bash
# apply.sh PROXY FILE [NAME]: copies FILE into the configuration directory of the proxy in
# tut-PROXY (as NAME, default its own name) and, when that proxy runs, waits until every
# worker serves the new version (the `legate` section of /config_dump), so the next command
# sees it. A rejected change is printed and fails.
set -euo pipefail
proxy=$1 file=$2 name=${3:-$(basename "$2")}
dir=/tmp/legate-tutorial/$proxy
status() {
  ip netns exec "tut-$proxy" curl -sf --max-time 2 127.0.0.1:15000/config_dump 2>/dev/null | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const l = JSON.parse(s).legate;
      const settled = Object.values(l.workers).every((v) => v === l.version);
      console.log(`${l.counts.applied + l.counts.rejected + l.counts.unchanged} ${settled} ${l.counts.rejected} ${JSON.stringify(l.last_rejected)}`);
    });' || true
}
before=$(status)
install -m 644 "$file" "$dir/$name"
[ -n "$before" ] || { echo "copied $name (no proxy running in tut-$proxy yet)"; exit 0; }
for _ in $(seq 100); do
  read -r seen settled rejected why <<<"$(status)"
  if [ "${seen:-0}" -gt "${before%% *}" ]; then
    [ "$rejected" -gt "$(cut -d' ' -f3 <<<"$before")" ] && { echo "rejected: $why" >&2; exit 1; }
    [ "$settled" = true ] && { echo "applied $name"; exit 0; }
  fi
  sleep 0.1
done
echo "apply.sh: tut-$proxy did not apply $name within 10 s" >&2
exit 1
