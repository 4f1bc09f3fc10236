import { expect } from 'chai'
import { spawn } from 'node:child_process'
import { readFile, rm, stat, truncate, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { makeFixture, type Fixture } from '../helpers/content-fixture.js'
import { CLI_PATH, runCli } from '../helpers/run-cli.js'
import { startOriginSeeder, type OriginSeeder } from '../../seeders/origin-seeder.js'
import { PartialDownload, type PartialState } from '../../src/client/partial-download.js'
import { Bitfield } from '../../src/core/swarm/bitfield.js'
import type { ContentProvider } from '../../src/net/content-provider.js'

const PIECE = 1024 * 1024
const PIECES = 16
/** Seeder delay per piece during the run that is killed: ~4 pieces/s, so the kill lands mid-download. */
const SLOW_PIECE_MS = 250
/** Kill once a progress line reports at least this many verified pieces. */
const KILL_AFTER_PIECES = 4

/**
 * A provider whose per-piece delay can change between runs, counting the
 * piece reads (= requests) it serves since the last `reset` (reads the
 * killed client left in flight finish later and are not counted).
 */
function throttledProvider (inner: ContentProvider): ContentProvider & { reads: number[], delayMs: number, reset: (delayMs: number) => void } {
  let generation = 0
  const p = {
    reads: [] as number[],
    delayMs: 0,
    reset: (delayMs: number) => { generation++; p.reads = []; p.delayMs = delayMs },
    has: (id: string) => inner.has(id),
    manifest: (id: string) => inner.manifest(id),
    readPiece: async (id: string, index: number) => {
      const g = generation
      if (p.delayMs > 0) await new Promise(resolve => setTimeout(resolve, p.delayMs))
      if (g === generation) p.reads.push(index)
      return await inner.readPiece(id, index)
    }
  }
  return p
}

interface Progress { event: string, verifiedPieces?: number, fetchedPieces?: number, resumedPieces?: number }

/** Runs `swarmcdn get --json` as a child and SIGKILLs it once `killAfter` pieces are reported verified; returns that count. */
async function getAndKill (args: string[], killAfter: number, timeoutMs = 15_000): Promise<number> {
  return await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_PATH, ...args, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let buf = ''
    let stderr = ''
    let killedAt: number | undefined
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`no progress line with ${killAfter} pieces in ${timeoutMs} ms: ${stderr}`)) }, timeoutMs)
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString()
      let nl
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl)
        buf = buf.slice(nl + 1)
        if (killedAt != null || !line.startsWith('{')) continue
        const ev = JSON.parse(line) as Progress
        if (ev.event === 'done') { clearTimeout(timer); reject(new Error('the download finished before the kill: make the seeder slower')); return }
        if (ev.event === 'progress' && (ev.verifiedPieces ?? 0) >= killAfter) {
          killedAt = ev.verifiedPieces
          child.kill('SIGKILL')
        }
      }
    })
    child.on('close', (_code, signal) => {
      clearTimeout(timer)
      if (killedAt == null) reject(new Error(`get exited without being killed: ${stderr}`))
      else if (signal !== 'SIGKILL') reject(new Error(`get ended by ${String(signal)}, not SIGKILL`))
      else resolve(killedAt)
    })
  })
}

async function exists (path: string): Promise<boolean> {
  return await stat(path).then(() => true, () => false)
}

async function stateClaims (out: string): Promise<Bitfield> {
  const state = JSON.parse(await readFile(PartialDownload.statePath(out), 'utf8')) as PartialState
  return Bitfield.fromBytes(new Uint8Array(Buffer.from(state.verified, 'base64')), PIECES)
}

describe('cli: swarmcdn get killed with SIGKILL resumes where it stopped', function () {
  this.timeout(40_000)
  let fx: Fixture
  let provider: ReturnType<typeof throttledProvider>
  let seeder: OriginSeeder
  before(async () => {
    fx = await makeFixture(PIECES * PIECE - 12_345, PIECE)
    provider = throttledProvider(fx.store)
    seeder = await startOriginSeeder({ store: provider, listenMultiaddrs: ['/ip4/127.0.0.1/tcp/0'] })
  })
  after(async () => { await seeder?.stop(); await fx.store.close(); await rm(fx.dir, { recursive: true, force: true }) })

  /** Kills a slow download mid-way; returns the output path and the verified count the last progress line reported. */
  async function killMidway (name: string): Promise<{ out: string, verifiedBeforeKill: number }> {
    const out = join(fx.dir, name)
    provider.reset(SLOW_PIECE_MS)
    const verifiedBeforeKill = await getAndKill(['get', fx.manifest.contentId, '--peer', seeder.multiaddrs[0], '-o', out], KILL_AFTER_PIECES)
    expect(verifiedBeforeKill).to.be.within(KILL_AFTER_PIECES, PIECES - 1)
    expect(await exists(out), 'the output must not appear before it is complete').to.equal(false)
    expect(await exists(PartialDownload.partialPath(out))).to.equal(true)
    expect(await exists(PartialDownload.statePath(out))).to.equal(true)
    return { out, verifiedBeforeKill }
  }

  /** Re-runs get at full speed, counting requests at the seeder; returns the done event and the requests. */
  async function rerun (out: string): Promise<{ done: Progress, requests: number }> {
    provider.reset(0)
    const r = await runCli(['get', fx.manifest.contentId, '--peer', seeder.multiaddrs[0], '-o', out, '--json'], { timeoutMs: 15_000 })
    expect(r.code, r.stderr).to.equal(0)
    const done = r.stdout.split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l) as Progress).find(e => e.event === 'done')
    expect(done, r.stdout).to.not.equal(undefined)
    expect(Buffer.compare(await readFile(out), Buffer.from(fx.data)), 'bytes must be exact').to.equal(0)
    expect(await exists(PartialDownload.partialPath(out))).to.equal(false)
    expect(await exists(PartialDownload.statePath(out))).to.equal(false)
    return { done: done as Progress, requests: provider.reads.length }
  }

  it('leaves no output file, then re-fetches only the pieces not saved before the kill', async () => {
    const { out, verifiedBeforeKill } = await killMidway('killed.bin')
    const saved = (await stateClaims(out)).count
    const { done, requests } = await rerun(out)
    // Every piece the state file recorded is resumed, and only the rest is requested.
    expect(done.resumedPieces).to.equal(saved)
    expect(done.fetchedPieces).to.equal(PIECES - saved)
    expect(requests).to.equal(PIECES - saved)
    // With 1 MiB pieces the state is saved after every piece (one save at a
    // time), so at most the piece whose save was in flight at the kill is
    // lost: fetched again <= total - verified before the kill + 1.
    expect(requests).to.be.at.most(PIECES - verifiedBeforeKill + 1)
  })

  it('recovers from a partial file truncated after the kill, refetching only the damaged pieces', async () => {
    const { out } = await killMidway('killed-truncated.bin')
    const saved = await stateClaims(out)
    expect(saved.count).to.be.at.least(2)
    // Pieces arrive in no fixed order: cut the file in the middle of the
    // second-lowest piece the state claims, so exactly one claimed piece survives.
    const claimed = Array.from({ length: PIECES }, (_, i) => i).filter(i => saved.get(i))
    await truncate(PartialDownload.partialPath(out), claimed[1] * PIECE + PIECE / 2)
    const { done, requests } = await rerun(out)
    expect(done.resumedPieces).to.equal(1)
    expect(requests).to.equal(PIECES - 1)
  })

  it('starts afresh (and still produces exact bytes) when the state file is garbage', async () => {
    const { out } = await killMidway('killed-garbage.bin')
    await writeFile(PartialDownload.statePath(out), '\u0000\u0000garbage')
    const { done, requests } = await rerun(out)
    expect(done.resumedPieces).to.equal(0)
    expect(requests).to.equal(PIECES)
  })
})
