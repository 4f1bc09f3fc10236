/**
 * What one admission costs an origin's upload policy (the core's
 * UploadPolicy, as `swarmcdn seed` and the simulator's origins run it) as
 * its crowd grows: N requesters of one busy item are admitted one by one,
 * each asks, then all are released, and the time per admission and per
 * release is reported against the same loop with the smallest N, in the
 * same invocation. A decision visits every requester of the busy items,
 * so the per-admission cost grows with N (docs/BENCHMARKS.md, "Session 11").
 *
 *   node_modules/.bin/node dist/bench/upload-policy-scale.js [--crowds 10,100,1000,4000] [--rounds 3]
 *
 * Pure and single-threaded: no network, no disk; bounded by the largest
 * crowd (4,000 admissions take a few seconds).
 */
import { UploadPolicy, originUploadPolicy } from '../src/core/swarm/upload-policy.js'
import { benchArgs } from './bench-args.js'

const USAGE = `usage: node dist/bench/upload-policy-scale.js [--crowds 10,100,1000,4000] [--rounds 3]

  --crowds N,...  requesters of one busy item, one run each (the first is the baseline)
  --rounds R      runs per crowd size; the median is reported`

const opts = benchArgs({ usage: USAGE, numbers: { rounds: 3 }, lists: { crowds: [10, 100, 1000, 4000] } })

/** Microseconds per admission and per release for a crowd of `n` (one run). */
function run (n: number): { admitUs: number, releaseUs: number } {
  const policy = new UploadPolicy(originUploadPolicy())
  let nowMs = 0
  const t0 = performance.now()
  for (let i = 0; i < n; i++) {
    const key = `r${i}:item`
    policy.admit(nowMs, key, { item: 'item', peerId: `r${i}`, pieceCount: 256, near: i % 3 === 0 })
    policy.requested(nowMs, key)
    nowMs += 1
  }
  const t1 = performance.now()
  for (let i = 0; i < n; i++) { policy.release(nowMs, `r${i}:item`); nowMs += 1 }
  const t2 = performance.now()
  return { admitUs: (t1 - t0) * 1000 / n, releaseUs: (t2 - t1) * 1000 / n }
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] }

run(opts.lists.crowds[0]) // warm-up
console.log(`origin upload policy (4 + 1 slots, busy from ${String(originUploadPolicy().busyThresholdRequesters)} requesters), one busy item, median of ${opts.numbers.rounds} run(s)`)
console.log('| requesters | us per admission (+ its request) | us per release | per admission / baseline | per release / baseline |')
console.log('| ---: | ---: | ---: | ---: | ---: |')
let base: { admitUs: number, releaseUs: number } | undefined
for (const n of opts.lists.crowds) {
  const runs = Array.from({ length: opts.numbers.rounds }, () => run(n))
  const r = { admitUs: median(runs.map(x => x.admitUs)), releaseUs: median(runs.map(x => x.releaseUs)) }
  base ??= r
  console.log(`| ${n} | ${r.admitUs.toFixed(1)} | ${r.releaseUs.toFixed(1)} | ${(r.admitUs / base.admitUs).toFixed(1)}x | ${(r.releaseUs / base.releaseUs).toFixed(1)}x |`)
}
