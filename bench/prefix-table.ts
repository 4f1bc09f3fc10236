/**
 * Prefix table: load time, retained memory and lookup rate of the full
 * @ip-location-db/asn v4+v6 table, each against a baseline measured in the
 * same run (csv-parse + ip-num + an array of {start,end,asn,org} objects
 * searched by the same bisection), plus peer ranking against a naive
 * comparator sort with a SHA-256 pair hash.
 *
 * The default table is also loaded from its prebuilt binary block (what
 * every swarmcdn process does, src/client/prefix-table-binary.ts) against
 * parsing the CSVs, same run.
 *
 * Run: node_modules/.bin/node --expose-gc dist/bench/prefix-table.js
 */
import { readFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { parse } from 'csv-parse/sync'
import { IPv4, IPv6 } from 'ip-num'
import { defaultPrefixTablePaths, loadPrefixTableCsvs, loadPrefixTableFiles, writeDefaultPrefixTableBinary } from '../src/client/prefix-table-files.js'
import { formatIpAddress, ipv4FromNumber, parseIpAddress, sharedPrefixBits, type IpAddress } from '../src/core/proximity/ip-address.js'
import { rankPeers, peerTieKey, type RankCandidate, type PeerPlace } from '../src/core/proximity/peer-ranking.js'

const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) process.stderr.write('warning: run with --expose-gc for meaningful memory numbers\n')
const MiB = 1024 * 1024
const retained = (): number => { gc?.(); gc?.(); const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers }

let seed = 0x2545f491
const rand32 = (): number => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return seed >>> 0 }

/** Runs `fn(count)` until at least `minOps` ops and `minMs` passed (capped by maxMs); returns ops/s. */
function rate (fn: (n: number) => number, batch: number, minOps: number, minMs = 300, maxMs = 3000): { perSec: number, ops: number, sink: number } {
  let ops = 0
  let sink = 0
  const t0 = performance.now()
  let elapsed = 0
  while ((ops < minOps || elapsed < minMs) && elapsed < maxMs) {
    sink += fn(batch)
    ops += batch
    elapsed = performance.now() - t0
  }
  return { perSec: ops / (elapsed / 1000), ops, sink }
}

interface NaiveRange { start: bigint, end: bigint, asn: number, org: string }

function naiveLoad (paths: string[]): { v4: NaiveRange[], v6: NaiveRange[] } {
  const v4: NaiveRange[] = []
  const v6: NaiveRange[] = []
  for (const path of paths) {
    const rows = parse(readFileSync(path, 'utf8'), { relax_column_count: true }) as string[][]
    for (const [s, e, asn, org] of rows) {
      if (s.includes(':')) v6.push({ start: IPv6.fromString(s).value, end: IPv6.fromString(e).value, asn: Number(asn), org })
      else v4.push({ start: IPv4.fromString(s).value, end: IPv4.fromString(e).value, asn: Number(asn), org })
    }
  }
  return { v4, v6 }
}

function naiveLookup (ranges: NaiveRange[], x: bigint): number {
  let lo = 0
  let hi = ranges.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (ranges[mid].start <= x) lo = mid + 1
    else hi = mid
  }
  const i = lo - 1
  return i >= 0 && ranges[i].end >= x ? ranges[i].asn : 0
}

const paths = defaultPrefixTablePaths()
const out: string[] = []
const line = (s: string): void => { out.push(s); console.log(s) }

// --- load ---
writeDefaultPrefixTableBinary()
let before = retained()
let t = performance.now()
let table = loadPrefixTableCsvs(paths)
const loadMs = performance.now() - t
const tableBytes = retained() - before
line(`table: ${table.v4RangeCount} IPv4 + ${table.v6RangeCount} IPv6 ranges, ${table.orgCount} distinct orgs`)

before = retained()
t = performance.now()
let naive: { v4: NaiveRange[], v6: NaiveRange[] } | undefined = naiveLoad(paths)
const naiveLoadMs = performance.now() - t
const naiveBytes = retained() - before
line(`load:   typed-array table ${loadMs.toFixed(0)} ms, baseline (csv-parse + ip-num + objects) ${naiveLoadMs.toFixed(0)} ms → ${(naiveLoadMs / loadMs).toFixed(1)}x faster`)
before = retained()
t = performance.now()
const fromBlock = loadPrefixTableFiles(paths)
const blockMs = performance.now() - t
const blockBytes = retained() - before
if (fromBlock.rangeCount !== table.rangeCount) throw new Error('the binary block and the CSVs disagree')
line(`load binary block: ${blockMs.toFixed(0)} ms, ${(blockBytes / MiB).toFixed(1)} MiB; parsing the CSVs into the typed-array table ${loadMs.toFixed(0)} ms → ${(loadMs / blockMs).toFixed(0)}x faster`)
line(`memory: typed-array table ${(tableBytes / MiB).toFixed(1)} MiB, baseline ${(naiveBytes / MiB).toFixed(1)} MiB → ${(naiveBytes / tableBytes).toFixed(1)}x smaller`)

// --- lookups ---
const N = 1 << 20
const v4 = new Uint32Array(N)
for (let i = 0; i < N; i++) v4[i] = rand32()
const v4Big = Array.from(v4, (x) => BigInt(x))
const v6Words = new Uint32Array(N * 4)
for (let i = 0; i < N; i++) {
  v6Words[i * 4] = 0x20000000 | (rand32() >>> 4) // 2000::/4, where the announced space is
  v6Words[i * 4 + 1] = rand32(); v6Words[i * 4 + 2] = rand32(); v6Words[i * 4 + 3] = rand32()
}
const v6Big = Array.from({ length: N }, (_, i) => (BigInt(v6Words[i * 4]) << 96n) | (BigInt(v6Words[i * 4 + 1]) << 64n) | (BigInt(v6Words[i * 4 + 2]) << 32n) | BigInt(v6Words[i * 4 + 3]))
let cursor = 0
const tbl = table
const fast4 = rate((n) => { let s = 0; for (let k = 0; k < n; k++) { s += tbl.indexOfV4(v4[cursor]); cursor = (cursor + 1) & (N - 1) } return s }, 1 << 16, 2e6)
const nv4 = naive.v4
const slow4 = rate((n) => { let s = 0; for (let k = 0; k < n; k++) { s += naiveLookup(nv4, v4Big[cursor]); cursor = (cursor + 1) & (N - 1) } return s }, 1 << 16, 1e6)
const fast6 = rate((n) => { let s = 0; for (let k = 0; k < n; k++) { const j = cursor << 2; s += tbl.indexOfV6(v6Words[j], v6Words[j + 1], v6Words[j + 2], v6Words[j + 3]); cursor = (cursor + 1) & (N - 1) } return s }, 1 << 16, 2e6)
const nv6 = naive.v6
const slow6 = rate((n) => { let s = 0; for (let k = 0; k < n; k++) { s += naiveLookup(nv6, v6Big[cursor]); cursor = (cursor + 1) & (N - 1) } return s }, 1 << 16, 1e6)
const hits = Array.from(v4.subarray(0, 1 << 16), (x) => tbl.indexOfV4(x) >= 0 ? 1 : 0).reduce((a: number, b: number) => a + b, 0) / (1 << 16)
line(`lookup IPv4 (uniform random, ${(hits * 100).toFixed(0)}% covered): ${(fast4.perSec / 1e6).toFixed(1)} M/s (${(fast4.ops / 1e6).toFixed(1)} M lookups), baseline ${(slow4.perSec / 1e6).toFixed(1)} M/s → ${(fast4.perSec / slow4.perSec).toFixed(1)}x`)
line(`lookup IPv6 (uniform in 2000::/4): ${(fast6.perSec / 1e6).toFixed(1)} M/s (${(fast6.ops / 1e6).toFixed(1)} M lookups), baseline ${(slow6.perSec / 1e6).toFixed(1)} M/s → ${(fast6.perSec / slow6.perSec).toFixed(1)}x`)
const texts = Array.from(v4.subarray(0, 1 << 16), (x) => formatIpAddress(ipv4FromNumber(x)))
const fastText = rate((n) => { let s = 0; for (let k = 0; k < n; k++) { s += tbl.asnOf(parseIpAddress(texts[cursor & 0xffff])); cursor++ } return s }, 1 << 14, 1e6)
const slowText = rate((n) => { let s = 0; for (let k = 0; k < n; k++) { s += naiveLookup(nv4, IPv4.fromString(texts[cursor & 0xffff]).value); cursor++ } return s }, 1 << 14, 2e5)
line(`parse text + lookup IPv4: ${(fastText.perSec / 1e6).toFixed(2)} M/s, baseline (ip-num parse + objects) ${(slowText.perSec / 1e6).toFixed(2)} M/s → ${(fastText.perSec / slowText.perSec).toFixed(1)}x`)
naive = undefined

// --- ranking ---
const CANDIDATES = 100
const tieId = (n: number): Uint8Array => createHash('sha256').update(String(n)).digest()
const pool: Array<RankCandidate & { id: Uint8Array }> = Array.from({ length: CANDIDATES }, (_, i) => {
  const address = ipv4FromNumber((10 << 24) | (rand32() & 0x00ffffff))
  return { id: tieId(i), address, asn: 64500 + (i % 4), tieKey: peerTieKey(tieId(i)), rttMs: i % 3 === 0 ? undefined : rand32() % 200 }
})
const selves: PeerPlace[] = Array.from({ length: 64 }, (_, i) => ({ address: ipv4FromNumber((10 << 24) | (rand32() & 0x00ffffff)), asn: 64500 + (i % 4), tieKey: peerTieKey(tieId(1000 + i)) }))
const selfIds = Array.from({ length: 64 }, (_, i) => tieId(1000 + i))
const work = pool.slice()
const fastRank = rate((n) => { for (let k = 0; k < n; k++) rankPeers(selves[k & 63], work); return work[0].asn }, 256, 2e4)
const naiveCompare = (self: PeerPlace, selfId: Uint8Array) => (a: typeof pool[number], b: typeof pool[number]): number => {
  const score = (c: typeof pool[number]): number => (self.asn === c.asn ? 256 : 0) + sharedPrefixBits(self.address as IpAddress, c.address as IpAddress)
  const d = score(b) - score(a)
  if (d !== 0) return d
  const ra = a.rttMs ?? Infinity
  const rb = b.rttMs ?? Infinity
  if (ra !== rb) return ra < rb ? -1 : 1
  const h = (x: Uint8Array): number => {
    const [lo, hi] = Buffer.compare(selfId, x) < 0 ? [selfId, x] : [x, selfId]
    return createHash('sha256').update(lo).update(hi).digest().readUInt32BE(0)
  }
  return h(a.id) - h(b.id)
}
const slowRank = rate((n) => { for (let k = 0; k < n; k++) work.sort(naiveCompare(selves[k & 63], selfIds[k & 63])); return work[0].asn }, 16, 500)
line(`rank ${CANDIDATES} candidates: ${(fastRank.perSec / 1e3).toFixed(0)} k rankings/s (${(1e6 / fastRank.perSec).toFixed(1)} µs each), baseline (comparator sort, SHA-256 pair hash) ${(slowRank.perSec / 1e3).toFixed(1)} k/s → ${(fastRank.perSec / slowRank.perSec).toFixed(0)}x`)

table = loadPrefixTableFiles(['test/fixtures/loopback-as.csv'])
if (table.rangeCount !== 7) throw new Error('fixture changed')
