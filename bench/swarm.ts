/**
 * Swarm download (issue 3): one origin seeder and N peers (default 20)
 * asking for the same item (default 64 MiB) within a few seconds of each
 * other, against the same N clients downloading from the seeder alone, in
 * the same run.
 *
 *   node_modules/.bin/node dist/bench/swarm.js [PEERS] [SIZE_MIB] [--with-previous]
 *
 * --with-previous adds a run of the swarm whose busy origin does not spread
 * pieces (spreadPieces: false, the policy before branch tune2), between the
 * two, so the spread rule is compared under the same machine load.
 *
 * Reports the seeder's upload bytes / item size (target < 2.0 for the
 * swarm), p50/p95 download time in both modes, CPU time and peak RSS per
 * peer (every peer is a child process, fork with IPC, so its numbers are
 * its own), and overlay lookup latency. The seeder runs in this process:
 * startOriginSeeder with its default policy, exactly what `swarmcdn seed`
 * runs; the baseline's seeder is `seed --no-busy`.
 *
 * Every peer is the real peer runtime (startPeer: one node, overlay leaf +
 * swarm) bootstrapped from the seeder, which is a DHT member (role
 * 'seeder'). Providers come from the overlay: findProviders, timed on
 * every call (the first call includes waiting for the first attachment).
 * A peer announces the item once its manifest verified. The baseline uses
 * the same lookups but keeps only the origin.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { generateKeyPairSync, randomFillSync } from 'node:crypto'
import { mkdtemp, open, rm, mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ContentStore } from '../src/store/content-store.js'
import { publishFile } from '../seeders/publish-file.js'
import type { ProviderInfo } from '../src/client/swarm-peer.js'
import { startPeer } from '../src/client/peer.js'
import { startOriginSeeder } from '../seeders/origin-seeder.js'

const PIECE_SIZE_BYTES = 256 * 1024
/** Peers start this far apart: N peers within N x 100 ms. */
const START_SPACING_MS = 100
const BENCH_TIMEOUT_MS = 10 * 60_000

interface Done { type: 'done', ms: number, cpuMs: number, maxRssMiB: number, fromOrigin: number, fromPeers: number, firstLookupMs: number, lookupMs: number[], providersFirst: number }
type ToChild = { type: 'start', contentId: string, origin: ProviderInfo, swarm: boolean } | { type: 'stop' }
type FromChild = { type: 'ready', info: ProviderInfo } | Done | { type: 'uploaded', bytes: number } | { type: 'error', message: string }

async function child (dir: string, bootstrap: string): Promise<void> {
  const send = (m: FromChild): void => { process.send?.(m) }
  // A parent that died must not leave peers running.
  process.on('disconnect', () => process.exit(1))
  const peer = await startPeer({ role: 'leaf', bootstrap: [bootstrap], listenMultiaddrs: ['/ip4/127.0.0.1/tcp/0'], prefixTablePaths: [] })
  send({ type: 'ready', info: { peerId: peer.peerId, multiaddrs: peer.multiaddrs() } })
  process.on('message', (m: ToChild) => {
    if (m.type === 'stop') {
      send({ type: 'uploaded', bytes: peer.swarm.gate.bytesUploaded })
      void peer.stop().then(() => process.exit(0))
    } else if (m.type === 'start') {
      void (async () => {
        const t0 = performance.now()
        const cpu0 = process.cpuUsage()
        const lookupMs: number[] = []
        let providersFirst = -1
        try {
          const res = await peer.download(m.contentId, join(dir, `${peer.peerId}.bin`), {
            finder: async (id, o) => {
              const l0 = performance.now()
              const found = await peer.finder(id, o)
              lookupMs.push(performance.now() - l0)
              if (providersFirst < 0) providersFirst = found.length
              return m.swarm ? found : found.filter(p => p.isOrigin === true)
            },
            refindIntervalMs: 500,
            maxPeers: 8
          })
          const cpu = process.cpuUsage(cpu0)
          const t = peer.swarm.stats().traffic
          send({ type: 'done', ms: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000, maxRssMiB: process.resourceUsage().maxRSS / 1024, fromOrigin: t.downloadedFromSeedersBytes, fromPeers: t.downloadedFromPeersBytes, firstLookupMs: lookupMs[0] ?? NaN, lookupMs, providersFirst })
          void res
        } catch (err) {
          send({ type: 'error', message: (err as Error).message })
        }
      })()
    }
  })
}

function quantile (xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]
}

async function runMode (swarm: boolean, spread: boolean, peers: number, store: ContentStore, contentId: string, lengthBytes: number, dir: string): Promise<{ uploadRatio: number, times: number[], done: Done[], peerUploads: number[] }> {
  // The origin is what `swarmcdn seed` runs (startOriginSeeder, default policy: busy from 4 requesters of one item,
  // 4 slots + 1 optimistic, spreading); the baseline origin is `seed --no-busy` (never chokes).
  // It is a DHT member (role 'seeder') and the peers' bootstrap.
  const origin = await startOriginSeeder({ store, listenMultiaddrs: ['/ip4/127.0.0.1/tcp/0'], node: { inboundConnectionsPerSecPerHost: 1000, maxIncomingPendingConnections: 100 }, upload: swarm ? { spreadPieces: spread } : { busyThresholdRequesters: false } })
  const originInfo: ProviderInfo = { peerId: origin.peerId, multiaddrs: origin.multiaddrs, isOrigin: true }
  const children: ChildProcess[] = []
  const readies: Array<Promise<ProviderInfo>> = []
  const childDir = join(dir, swarm ? (spread ? 'swarm' : 'swarm-nospread') : 'alone')
  await mkdir(childDir, { recursive: true })
  for (let i = 0; i < peers; i++) {
    const c = fork(fileURLToPath(import.meta.url), ['child', childDir, origin.multiaddrs[0]], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    children.push(c)
    readies.push(new Promise((resolve, reject) => {
      c.once('message', (m: FromChild) => { if (m.type === 'ready') resolve(m.info); else reject(new Error('unexpected')) })
      c.once('error', reject)
    }))
  }
  await Promise.all(readies)
  const dones: Array<Promise<Done>> = children.map(async c => await new Promise<Done>((resolve, reject) => {
    const onMessage = (m: FromChild): void => {
      if (m.type === 'done') { c.off('message', onMessage); resolve(m) }
      if (m.type === 'error') reject(new Error(m.message))
    }
    c.on('message', onMessage)
  }))
  for (let i = 0; i < peers; i++) {
    children[i].send({ type: 'start', contentId, origin: originInfo, swarm } satisfies ToChild)
    await new Promise(resolve => setTimeout(resolve, START_SPACING_MS))
  }
  const timeout = new Promise<never>((_resolve, reject) => setTimeout(() => { reject(new Error('benchmark timed out')) }, BENCH_TIMEOUT_MS).unref())
  const done = await Promise.race([Promise.all(dones), timeout])
  const peerUploads = await Promise.all(children.map(async c => await new Promise<number>(resolve => {
    c.on('message', (m: FromChild) => { if (m.type === 'uploaded') resolve(m.bytes) })
    c.send({ type: 'stop' } satisfies ToChild)
  })))
  const uploadRatio = origin.peer.swarm.gate.bytesUploaded / lengthBytes
  await origin.stop()
  await rm(childDir, { recursive: true, force: true })
  return { uploadRatio, times: done.map(d => d.ms), done, peerUploads }
}

async function main (): Promise<void> {
  const peers = Number(process.argv[2] ?? 20)
  const sizeMiB = Number(process.argv[3] ?? 64)
  const withPrevious = process.argv.includes('--with-previous')
  const dir = await mkdtemp(join(tmpdir(), 'swarmcdn-bench-swarm-'))
  try {
    const src = join(dir, 'item.bin')
    const fh = await open(src, 'w')
    const chunk = new Uint8Array(1024 * 1024)
    for (let i = 0; i < sizeMiB; i++) { randomFillSync(chunk); await fh.write(chunk) }
    await fh.close()
    const store = await ContentStore.open(join(dir, 'store'))
    const manifest = await publishFile(store, src, generateKeyPairSync('ed25519').privateKey, { pieceSizeBytes: PIECE_SIZE_BYTES })
    const rows: string[] = []
    const results: Record<string, Awaited<ReturnType<typeof runMode>>> = {}
    const modes: Array<[string, boolean, boolean]> = [['seeder alone', false, false]]
    if (withPrevious) modes.push(['swarm, busy origin without spreading (previous policy)', true, false])
    modes.push(['swarm (peers + busy origin)', true, true])
    for (const [name, swarm, spread] of modes) {
      const r = await runMode(swarm, spread, peers, store, manifest.contentId, manifest.lengthBytes, dir)
      results[swarm ? (spread ? 'swarm' : 'previous') : 'alone'] = r
      const cpu = r.done.map(d => d.cpuMs / 1000)
      const rss = r.done.map(d => d.maxRssMiB)
      const fromPeers = r.done.reduce((s, d) => s + d.fromPeers, 0)
      rows.push(`| ${name} | ${r.uploadRatio.toFixed(2)} | ${(quantile(r.times, 0.5) / 1000).toFixed(1)} s | ${(quantile(r.times, 0.95) / 1000).toFixed(1)} s | ${(fromPeers / (manifest.lengthBytes * peers) * 100).toFixed(0)}% | ${(cpu.reduce((a, b) => a + b, 0) / cpu.length).toFixed(2)} s | ${Math.max(...rss).toFixed(0)} MiB |`)
    }
    process.stdout.write(`${peers} peers, ${sizeMiB} MiB item, ${PIECE_SIZE_BYTES / 1024} KiB pieces, starts ${START_SPACING_MS} ms apart\n\n`)
    process.stdout.write('| mode | seeder upload / item | p50 download | p95 download | bytes from peers | CPU per peer | peak RSS per peer (max) |\n| --- | --- | --- | --- | --- | --- | --- |\n')
    process.stdout.write(rows.join('\n') + '\n\n')
    const a = results.alone
    const s = results.swarm
    process.stdout.write(`seeder upload saved: ${(a.uploadRatio / s.uploadRatio).toFixed(1)}x less with the swarm; p50 time ratio swarm/alone ${(quantile(s.times, 0.5) / quantile(a.times, 0.5)).toFixed(2)}\n`)
    const prev = results.previous
    if (prev != null) process.stdout.write(`vs the previous policy (no spreading) in this run: seeder upload ${(s.uploadRatio / prev.uploadRatio).toFixed(2)}x, p50 time ${(quantile(s.times, 0.5) / quantile(prev.times, 0.5)).toFixed(2)}x\n`)
    const first = s.done.map(d => d.firstLookupMs)
    const later = s.done.flatMap(d => d.lookupMs.slice(1))
    const found = s.done.map(d => d.providersFirst)
    process.stdout.write(`overlay lookups (swarm run): first findProviders per peer p50 ${quantile(first, 0.5).toFixed(0)} ms, p95 ${quantile(first, 0.95).toFixed(0)} ms (includes waiting for the first attachment; providers found p50 ${quantile(found, 0.5)}); later lookups (${later.length}) p50 ${later.length > 0 ? quantile(later, 0.5).toFixed(0) : '-'} ms, p95 ${later.length > 0 ? quantile(later, 0.95).toFixed(0) : '-'} ms\n`)
    await store.close()
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

if (process.argv[2] === 'child') await child(process.argv[3], process.argv[4])
else await main()
