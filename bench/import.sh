#!/usr/bin/env bash
# Import throughput: LINES case updates (default 100,000) through `closeloop import` into a
# fresh `closeloop serve` on SQLite with the demo config. Prints the import's summary line
# (lines/s), how long the service then needed to evaluate the rules for every event, and the
# service's peak RSS.
#
#   cargo build --release -p closeloop && bash bench/import.sh [LINES]
#   BATCH=5000 bash bench/import.sh      # lines per request (the import's --batch)
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-100000}
bin=${CARGO_TARGET_DIR:-target}/release/closeloop
port=${PORT:-18091}
[ -x "$bin" ] || { echo "no $bin: run cargo build --release -p closeloop first"; exit 1; }
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT

# Open cases with a queue, an agent and a phone: every line creates a case and an event.
awk -v n="$lines" 'BEGIN { for (i = 1; i <= n; i++)
  printf "{\"id\":\"IMP-%d\",\"number\":\"%d\",\"status\":\"Open\",\"case_type\":\"billing\",\"queue\":\"tier1\",\"assignee\":\"agent-%d\",\"region\":\"EMEA\",\"profile\":{\"first_name\":\"Ana\",\"phone\":\"+3460%07d\",\"language\":\"es\"}}\n", i, i, i % 7, i }' \
  > "$dir/cases.ndjson"

"$bin" serve --config examples/closeloop.yaml --database "sqlite://$dir/bench.db" \
  --listen "127.0.0.1:$port" >"$dir/serve.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.1
done

start=$(date +%s.%N)
"$bin" import "$dir/cases.ndjson" ${BATCH:+--batch "$BATCH"} --server "http://127.0.0.1:$port" 2>&1 | grep -E "lines read|rejected line" || true
imported=$(date +%s.%N)
# The rules run on every event after the import answered; wait until none is pending.
for _ in $(seq 3000); do
  pending=$(curl -fs "http://127.0.0.1:$port/metrics" | awk '/^closeloop_events_pending /{print $2}')
  [ "${pending:-1}" = "0" ] && break
  sleep 0.2
done
done_at=$(date +%s.%N)
peak=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
awk -v a="$start" -v b="$imported" -v c="$done_at" -v n="$lines" 'BEGIN {
  printf "import answered in %.1f s (%.0f lines/s); every event evaluated %.1f s later\n", b - a, n / (b - a), c - b }'
echo "service peak RSS (VmHWM): $((peak / 1024)) MiB"
