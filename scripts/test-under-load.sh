#!/usr/bin/env bash
# Runs the test suite several times in a row while other processes keep
# every core busy, to show the suite does not depend on the machine being
# quiet (CI machines are shared). Not part of `npm test`.
#
#   npm run test:loaded                     (3 runs, 2 burners)
#   RUNS=5 BURNERS=4 bash scripts/test-under-load.sh
#
# Each burner is a `node` busy loop that ends by itself after
# BURN_LIMIT_S seconds (default 3600) and is killed when this script
# exits, passes or fails. Each run's mocha output goes to
# $LOG_DIR/run-N.log (default: a new folder under /tmp, kept so failures
# can be read); the script prints one line per run and exits 1 if any
# run failed.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${RUNS:-3}
burners=${BURNERS:-2}
burn_limit_s=${BURN_LIMIT_S:-3600}
log_dir=${LOG_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/swarmcdn-loaded-XXXXXX")}
mkdir -p "$log_dir"
node_bin=node_modules/.bin/node
[ -x "$node_bin" ] || node_bin=node

pids=()
cleanup () {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

npm run build >"$log_dir/build.log" 2>&1 || { echo "build failed: $log_dir/build.log"; exit 1; }
for _ in $(seq 1 "$burners"); do
  timeout "$burn_limit_s" "$node_bin" -e 'for (;;) {}' &
  pids+=("$!")
done

failed=0
for i in $(seq 1 "$runs"); do
  start=$(date +%s)
  load_before=$(cut -d' ' -f1 /proc/loadavg)
  if "$node_bin" node_modules/.bin/mocha >"$log_dir/run-$i.log" 2>&1; then result=pass; else result=FAIL; failed=$((failed + 1)); fi
  summary=$(grep -E '^ +[0-9]+ (passing|failing|pending)' "$log_dir/run-$i.log" | tr -s ' ' | tr '\n' ' ')
  echo "run $i: $result in $(( $(date +%s) - start )) s, load average $load_before -> $(cut -d' ' -f1 /proc/loadavg):$summary($log_dir/run-$i.log)"
done
[ "$failed" -eq 0 ]
