import { spawnSync } from 'node:child_process'

/**
 * V8 flags every `swarmcdn` process runs with (bin/swarmcdn.js passes them
 * on its shebang line; a test keeps the two in step).
 *
 * Why a 2 MiB semi-space: moving pieces at 200+ MiB/s allocates one
 * network buffer per 64 KiB (TCP reads, Noise plaintext) whose JS wrapper
 * is tiny. With V8's default young generation (16 MiB semi-spaces here)
 * thousands of dead wrappers, holding ~80 MiB of buffers, wait for a
 * scavenge, and external-memory pressure then forces full mark-compacts.
 * A small young generation scavenges often and frees them while still
 * cheap. Measured with bench/download.ts at 1 GiB: client peak RSS
 * 186-200 -> 161-171 MiB, client CPU 5.4-5.8 -> 3.3-3.6 s.
 *
 * Why the incremental-marking triggers: with V8's own rule for starting a
 * full GC's marking (start once the old generation's room left is about
 * the young generation's size), a download's small heap (~15 MB, limit
 * ~22-26 MB) fell, in about half of the runs, into "full-GC storms": after
 * the first mark-compact, marking started again every ~150 ms ("Start
 * (task)" / "Start (allocation limit)" with 6-10 MB of room left, in
 * `--trace-incremental-marking`), 75-105 mark-compacts per 512 MiB `get`
 * and ~2.5 s more CPU (4.3-5.4 s against 1.9-2.6 s). With the triggers,
 * marking starts only once 90% (via a task) or 95% (at once) of the room
 * the last full GC left is used: 1-8 mark-compacts in every run measured
 * (docs/BENCHMARKS.md "Session 10"). Large heaps (a seeder's) still mark
 * incrementally, just later in their room.
 *
 * Why `--expose-gc`: a download asks for a full GC once it holds more than
 * 40 MiB of ArrayBuffers (src/client/array-buffer-gc.ts says why).
 */
export const SWARMCDN_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2', '--incremental-marking-soft-trigger=90', '--incremental-marking-hard-trigger=95', '--expose-gc']

/**
 * V8 flags of a simulator process (`swarmcdn sim`, bench/sim-protocol.ts,
 * bench/sim-engine.ts): a fixed 64 MiB semi-space and compaction on every
 * full GC.
 *
 * Why: a simulation keeps millions of objects alive for a short while (a
 * message in flight, a lookup, a timer's state) and the more nodes, the
 * more allocation happens before they die. With V8's default young
 * generation they are promoted and die in the old generation; at 10^6
 * peers that old space ends up at a quarter occupancy over 12+ GiB of
 * pages, V8 then runs memory-reducing full GCs (one paused 16.9 s) and
 * the main thread spent 19% of its time in GC. A 64 MiB semi-space lets
 * them die young; compacting on every full GC keeps the old space dense.
 * Measured (docs/BENCHMARKS.md, session 6): 10^5 peers x 3 simulated h
 * 60.1 -> 44.7 s with a lower peak RSS (1.37 -> 1.27 GB); 10^6, simulated
 * hours 5-6: 44k -> 85k events/s.
 */
export const SIM_NODE_FLAGS: readonly string[] = ['--min-semi-space-size=64', '--max-semi-space-size=64', '--compact-on-every-full-gc']

/**
 * `execArgv` with every semi-space flag replaced by SIM_NODE_FLAGS and the
 * CLI's other flags (tuned for a download's small heap, not for a
 * simulator's gigabytes) left out, or undefined when it already has exactly those.
 */
export function simExecArgv (execArgv: readonly string[]): string[] | undefined {
  const name = (flag: string): string => flag.split('=')[0]
  const own = new Set([...SIM_NODE_FLAGS, ...SWARMCDN_NODE_FLAGS].map(name))
  const wanted = [...execArgv.filter(f => !own.has(name(f))), ...SIM_NODE_FLAGS]
  if (wanted.length === execArgv.length && SIM_NODE_FLAGS.every(f => execArgv.includes(f))) return undefined
  return wanted
}

/**
 * Runs the current script again in a child node with SIM_NODE_FLAGS (the
 * other flags and arguments kept) unless this process has them; returns
 * the child's exit code, or undefined when this process should go on.
 */
export function rerunWithSimFlags (): number | undefined {
  const execArgv = simExecArgv(process.execArgv)
  if (execArgv === undefined) return undefined
  const child = spawnSync(process.execPath, [...execArgv, ...process.argv.slice(1)], { stdio: 'inherit' })
  return child.status ?? 1
}
