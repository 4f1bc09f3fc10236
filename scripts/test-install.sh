#!/usr/bin/env bash
# Installs swarmcdn the way a user does and uses it from another folder:
# npm pack, npm install -g into a temporary prefix, then keygen, publish,
# seed, get, asn and sim from a temporary folder, all with the machine's own
# node (which may be older than 22: the launcher then runs the Node 24
# installed with the package). Not part of `npm test`: it takes ~30 s and
# fetches the dependencies through npm (from its cache when it can).
#
#   npm run test:install        (or: bash scripts/test-install.sh)
#
# Everything it creates is under one temp folder, removed at the end; the
# seeder it starts is stopped by its process id.
set -euo pipefail
cd "$(dirname "$0")/.."

tmp=$(mktemp -d "${TMPDIR:-/tmp}/swarmcdn-install-XXXXXX")
seeder=""
cleanup () {
  if [ -n "$seeder" ] && kill -0 "$seeder" 2>/dev/null; then kill -INT "$seeder"; wait "$seeder" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

passed=0
failed=0
check () { # check NAME COMMAND...: runs the command, counts the result
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "ok   $name"; else failed=$((failed + 1)); echo "FAIL $name"; fi
}

# `npm run` puts the project's own Node 24 (node_modules/.bin) first: use the machine's.
PATH=$(printf '%s' "$PATH" | tr ':' '\n' | grep -v '/node_modules/\.bin$' | paste -sd: -)
echo "system node: $(command -v node) $(node --version)"
npm pack --silent --pack-destination "$tmp" > /dev/null
tgz=$(ls "$tmp"/swarmcdn-*.tgz)
npm install -g --silent --no-audit --no-fund --prefix "$tmp/prefix" "$tgz" 2> "$tmp/install.log" || { cat "$tmp/install.log"; exit 1; }
swarmcdn="$tmp/prefix/bin/swarmcdn"
version=$(node -p "require('./package.json').version")

mkdir -p "$tmp/work"
cd "$tmp/work"
# From here on nothing of the checkout is reachable: the command must bring all it needs.
export PATH="$tmp/prefix/bin:$(dirname "$(command -v node)"):/usr/bin:/bin"

check "--version prints $version" test "$(swarmcdn --version)" = "$version"
check "--help lists the commands" bash -c "swarmcdn --help | grep -q '^  get \[options\] <content-id>'"
check "get --help has an example" bash -c "swarmcdn get --help | grep -q '\\\$ swarmcdn get '"
check "asn with the shipped loopback table, by name" test "$(swarmcdn asn 127.1.0.1 --table loopback)" = "$(printf '127.1.0.1\tAS64601\tLoopback Net A')"
check "asn with the shipped table's path, from another folder" test "$(swarmcdn asn 127.2.0.1 --table test/fixtures/loopback-as.csv | cut -f2)" = "AS64602"
check "asn with the default table" test "$(swarmcdn asn 8.8.8.8 | cut -f2)" = "AS15169"
printf '127.0.0.0,127.255.255.255,64999,Here\n' > mine.csv
check "asn with a relative --table in the current folder" test "$(swarmcdn asn 127.9.0.1 --table mine.csv | cut -f2)" = "AS64999"

check "sim runs a shipped scenario by name" bash -c "swarmcdn sim flash-crowd-small --out simout > /dev/null && test -s simout/summary.json"

head -c 300000 /dev/urandom > item.bin
swarmcdn keygen --out k.key > /dev/null
id=$(swarmcdn publish item.bin --key k.key --store store 2> /dev/null)
check "publish prints a content id" test -n "$id"
swarmcdn seed --store store --listen /ip4/127.0.0.1/tcp/0 --json > seed.log 2>&1 &
seeder=$!
for _ in $(seq 1 200); do grep -q '"listening"' seed.log && break; sleep 0.1; done
addr=$(grep -o '/ip4/127.0.0.1/tcp/[0-9]*/p2p/[A-Za-z0-9]*' seed.log | head -1)
check "seed listens" test -n "$addr"
check "get downloads the item byte for byte" bash -c "swarmcdn get '$id' --peer '$addr' -o copy.bin 2> get.log && cmp -s copy.bin item.bin"
kill -INT "$seeder"
check "seed stops on SIGINT with status 0" wait "$seeder"
seeder=""

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
