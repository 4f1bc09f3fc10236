/**
 * Legitimate downloads with and without each attack of the issue "hostile
 * peers and clients cannot starve a seeder, a web seed or a gateway", on
 * loopback, in the same run: the attacked time over the quiet time is the
 * result (a few rounds, medians).
 *
 *   - non-reading requesters: 2 peer identities x 32 xfer streams, each a
 *     handshake and 64 requests, then nothing read (streams paused);
 *     legitimate `download` of the item from the origin seeder.
 *   - garbage frames: 4 peer identities sending bad frames on xfer,
 *     manifest, status and dht (at most 250 each) during the download.
 *   - web seed slowloris: 300 sockets sending one header line a second;
 *     legitimate GET of the whole item from the web seed.
 *   - gateway slowloris: the same against a streaming gateway.
 *   - provider-record flood: 20 peer identities of one /24 storing 100
 *     records each (paced under the DHT's per-peer rate limit) on the
 *     origin seeder, whose network quota is 1,200 with loopback counted
 *     as networks; legitimate `download` while the flood runs.
 *
 * Every server runs with its default options, except `--stall-ms` (the
 * seeder's stall and idle-slot timeouts, default their 5 s defaults), in
 * a process of its own (bench/attack-target.ts, a fresh one each round),
 * whose RSS is sampled from its warmed-up baseline (after the quiet
 * download) to its peak during the attacked download: the peak growth
 * over the rounds is reported per attack.
 *
 *   node_modules/.bin/node dist/bench/under-attack.js [--size-mib 32] [--rounds 3] [--stall-ms 5000]
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ContentStore } from '../src/store/content-store.js'
import { publishFile } from '../seeders/publish-file.js'
import { startSwarmPeer } from '../src/client/swarm-peer.js'
import type { VerifiedManifest } from '../src/core/content/manifest.js'
import type { SwarmNode } from '../src/net/swarm-node.js'
import { DHT_PROTOCOL, MANIFEST_PROTOCOL, STATUS_PROTOCOL, XFER_PROTOCOL } from '../src/net/protocol-ids.js'
import { floodBadFrames, floodProviderRecords, startAttacker, startNonReaders } from '../test/helpers/hostile.js'
import { startSlowloris } from '../test/helpers/slowloris.js'
import { sampleRss } from '../test/helpers/rss-sampler.js'
import { benchArgs } from './bench-args.js'
import { startAttackTarget, type AttackTarget, type AttackTargetInit } from './attack-target.js'

const USAGE = 'usage: node dist/bench/under-attack.js [--size-mib 32] [--rounds 3] [--stall-ms 5000]'
const MIB = 1024 * 1024
const PIECE_BYTES = 256 * 1024
/** No legitimate download may take longer than this, ms. */
const DOWNLOAD_TIMEOUT_MS = 120_000
/** The provider-record flood: identities (one /24), records each, and the seeder's network quota. */
const FLOOD_IDENTITIES = 20
const FLOOD_RECORDS_EACH = 100
const FLOOD_NETWORK_QUOTA = 1200

interface Row { attack: string, target: string, quietMs: number[], attackedMs: number[], rssGrowthMiB: number[], note: string }

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

async function timedGet (url: string, expectBytes: number): Promise<number> {
  const started = Date.now()
  await new Promise<void>((resolve, reject) => {
    const req = request(url, { agent: false, localAddress: '127.0.0.1', signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) })
    req.once('response', res => {
      let bytes = 0
      res.on('data', (c: Buffer) => { bytes += c.length })
      res.once('end', () => { bytes === expectBytes && res.statusCode === 200 ? resolve() : reject(new Error(`GET ${url}: ${String(res.statusCode)}, ${bytes} bytes`)) })
      res.once('error', reject)
    })
    req.once('error', reject)
    req.end()
  })
  return Date.now() - started
}

/** Runs the benchmark and prints the table and one JSON line. */
export async function main (): Promise<void> {
  const args = benchArgs({ usage: USAGE, numbers: { 'size-mib': 32, rounds: 3, 'stall-ms': 5000 } })
  const sizeMib = args.numbers['size-mib']
  const rounds = args.numbers.rounds
  const stallMs = args.numbers['stall-ms']
  const dir = await mkdtemp(join(tmpdir(), 'swarmcdn-under-attack-'))
  const store = await ContentStore.open(join(dir, 'store'))
  const rows: Row[] = []
  try {
    const data = randomBytes(sizeMib * MIB)
    await writeFile(join(dir, 'item.bin'), data)
    const manifest: VerifiedManifest = await publishFile(store, join(dir, 'item.bin'), generateKeyPairSync('ed25519').privateKey, { pieceSizeBytes: PIECE_BYTES })
    let n = 0
    const download = async (origin: AttackTarget): Promise<number> => {
      const client = await startSwarmPeer({ listenMultiaddrs: ['/ip4/127.2.0.1/tcp/0'] })
      try {
        const started = Date.now()
        await client.download(manifest.contentId, join(dir, `out-${n++}.bin`), { sources: [{ address: origin.address, isOrigin: true }], signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) })
        return Date.now() - started
      } finally {
        await client.stop()
        await rm(join(dir, `out-${n - 1}.bin`), { force: true })
      }
    }
    const target = async (kind: AttackTargetInit['kind'], more: Partial<AttackTargetInit> = {}): Promise<AttackTarget> =>
      await startAttackTarget({ kind, storeDir: join(dir, 'store'), contentId: manifest.contentId, itemPath: join(dir, 'item.bin'), stallMs, ...more })

    // libp2p: non-reading requesters, then garbage frames.
    for (const attack of ['non-reading requesters (2 x 32 streams)', 'garbage frames (4 peers, 4 protocols)'] as const) {
      const row: Row = { attack, target: 'seeder (libp2p get)', quietMs: [], attackedMs: [], rssGrowthMiB: [], note: '' }
      let stalls = 0
      let bans = 0
      for (let r = 0; r < rounds; r++) {
        const origin = await target('seeder')
        const attackers: SwarmNode[] = []
        const stopGarbage = new AbortController()
        let rss: ReturnType<typeof sampleRss> | undefined
        try {
          row.quietMs.push(await download(origin))
          rss = sampleRss(origin.pid)
          let garbage: Promise<unknown> | undefined
          if (attack.startsWith('non-reading')) {
            for (let i = 0; i < 2; i++) {
              const a = await startAttacker(`127.66.0.${i + 1}`)
              attackers.push(a)
              await startNonReaders(a, origin.address, { contentId: manifest.contentId, pieceCount: manifest.pieceCount, streams: 32, requests: 64 })
            }
          } else {
            const protocols = [XFER_PROTOCOL, MANIFEST_PROTOCOL, STATUS_PROTOCOL, DHT_PROTOCOL]
            for (let i = 0; i < protocols.length; i++) attackers.push(await startAttacker(`127.67.0.${i + 1}`))
            garbage = Promise.all(protocols.map(async (protocol, i) => await floodBadFrames(attackers[i], origin.address, { protocol, maxAttempts: 250, signal: stopGarbage.signal })))
          }
          row.attackedMs.push(await download(origin))
          row.rssGrowthMiB.push(rss.stop().growthMiB)
          stopGarbage.abort()
          await garbage
          const st = await origin.stats()
          stalls += st.stalls
          bans += st.bans
        } finally {
          rss?.stop()
          stopGarbage.abort()
          for (const a of attackers) { try { await a.stop() } catch {} }
          await origin.stop()
        }
      }
      row.note = attack.startsWith('non-reading') ? `${stalls} stalled streams reset, ${bans} peers banned` : `${bans} peers banned`
      rows.push(row)
    }

    // libp2p: provider-record flood, the download running while it does.
    {
      const row: Row = { attack: `provider-record flood (${FLOOD_IDENTITIES} ids of one /24 x ${FLOOD_RECORDS_EACH}, quota ${FLOOD_NETWORK_QUOTA})`, target: 'seeder (libp2p get)', quietMs: [], attackedMs: [], rssGrowthMiB: [], note: '' }
      let held = 0
      let refused = 0
      let tried = 0
      for (let r = 0; r < rounds; r++) {
        const origin = await target('seeder', { providerRecordsPerNetwork: FLOOD_NETWORK_QUOTA })
        let rss: ReturnType<typeof sampleRss> | undefined
        let flood: Awaited<ReturnType<typeof floodProviderRecords>> | undefined
        let flooding: Promise<void> | undefined
        try {
          row.quietMs.push(await download(origin))
          const before = (await origin.stats()).providerRecords
          rss = sampleRss(origin.pid)
          const sources = Array.from({ length: FLOOD_IDENTITIES }, (_, i) => `127.69.0.${i + 1}`)
          flooding = floodProviderRecords(origin.address, { sources, recordsEach: FLOOD_RECORDS_EACH }).then(f => { flood = f })
          row.attackedMs.push(await download(origin))
          await flooding
          row.rssGrowthMiB.push(rss.stop().growthMiB)
          held = Math.max(held, (await origin.stats()).providerRecords - before)
          const answers = flood?.answers ?? new Map<string, number>()
          refused += (answers.get('too-many-keys') ?? 0) + (answers.get('no answer') ?? 0)
          tried += FLOOD_IDENTITIES * FLOOD_RECORDS_EACH
        } finally {
          rss?.stop()
          await flooding?.catch(() => {})
          await flood?.stop()
          await origin.stop()
        }
      }
      row.note = `at most ${held} records held; ${refused} of ${tried} refused or unanswered (banned)`
      rows.push(row)
    }

    // HTTP: web seed and gateway under slowloris.
    for (const kind of ['web seed', 'streaming gateway'] as const) {
      const row: Row = { attack: 'slowloris (300 sockets, 1 line/s)', target: `${kind} (GET)`, quietMs: [], attackedMs: [], rssGrowthMiB: [], note: '' }
      let cut = 0
      for (let r = 0; r < rounds; r++) {
        const server = await target(kind === 'web seed' ? 'web seed' : 'gateway')
        const url = kind === 'web seed' ? `${server.address}/c/${manifest.contentId}` : `${server.address}/c/${manifest.contentId}/${encodeURIComponent(manifest.name)}`
        const port = Number(new URL(server.address).port)
        try {
          // A first GET warms the server's code paths (each round is a fresh process), so the quiet GET is not a cold-start number.
          await timedGet(url, manifest.lengthBytes)
          row.quietMs.push(await timedGet(url, manifest.lengthBytes))
          const rss = sampleRss(server.pid)
          const live = startSlowloris({ host: '127.0.0.1', port, sockets: 300, localAddress: kind === 'web seed' ? '127.68.0.1' : undefined })
          try {
            // Let the attack hold what it can for a while first.
            await new Promise(resolve => setTimeout(resolve, 2000))
            row.attackedMs.push(await timedGet(url, manifest.lengthBytes))
            row.rssGrowthMiB.push(rss.stop().growthMiB)
            if (!live.live()) throw new Error('the slowloris ran out of sockets before the measurement ended')
          } finally {
            rss.stop()
            live.stop()
          }
          cut += (await server.stats()).cut
        } finally {
          await server.stop()
        }
      }
      row.note = `${cut} attack sockets refused, evicted or cut`
      rows.push(row)
    }
  } finally {
    await store.close()
    await rm(dir, { recursive: true, force: true })
  }

  process.stdout.write(`under attack: ${sizeMib} MiB item, ${PIECE_BYTES / 1024} KiB pieces, ${rounds} round(s), seeder stall/idle ${stallMs} ms\n\n`)
  process.stdout.write('| attack | legitimate download from | quiet ms (median) | attacked ms (median) | attacked / quiet | server RSS growth, MiB (peak of rounds) | what the defence did |\n| --- | --- | ---: | ---: | ---: | ---: | --- |\n')
  for (const r of rows) {
    const q = median(r.quietMs)
    const a = median(r.attackedMs)
    process.stdout.write(`| ${r.attack} | ${r.target} | ${q} | ${a} | ${(a / q).toFixed(2)}x | ${Math.max(...r.rssGrowthMiB).toFixed(1)} | ${r.note} |\n`)
  }
  process.stdout.write(JSON.stringify({ sizeMib, rounds, stallMs, rows }) + '\n')
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main()
}
