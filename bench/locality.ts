/**
 * Locality (issue 4): the share of peer-to-peer bytes that stay inside an
 * AS, with proximity ranking on vs off, in the same run, on a loopback
 * swarm of ASES x PEERS_PER_AS peers (default 4 x 5) bound to 127.N.0.x,
 * which test/fixtures/loopback-as.csv maps to AS 6460N. One origin seeder
 * on 127.0.0.1 (AS 64600, its own AS) holds the item.
 *
 *   node_modules/.bin/node dist/bench/locality.js [ASES] [PEERS_PER_AS] [SIZE_MIB]
 *
 * In-process (all nodes in this process): the metric is bytes by source,
 * not CPU, so per-process numbers would add nothing. Providers come from a
 * static finder listing the origin and every peer that has started; peers
 * start 50 ms apart, round-robin over the ASes. LOC_DEBUG=1 prints each
 * peer's pieces from near peers, far peers and the origin to stderr.
 */
import { generateKeyPairSync, randomFillSync } from 'node:crypto'
import { mkdtemp, open, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ContentStore } from '../src/store/content-store.js'
import { publishFile } from '../seeders/publish-file.js'
import { startSwarmPeer, staticFinder, type ProviderInfo, type SwarmPeer } from '../src/client/swarm-peer.js'
import { loadPrefixTableFiles } from '../src/client/prefix-table-files.js'
import { ipOfMultiaddr } from '../src/client/proximity-ranker.js'
import { AsnResolver } from '../src/core/proximity/asn-resolver.js'

const PIECE_SIZE_BYTES = 128 * 1024
const START_SPACING_MS = 50

interface RunResult { intraShare: number, originShare: number, p50Ms: number }

async function run (proximity: boolean, ases: number, perAs: number, store: ContentStore, contentId: string, resolver: AsnResolver, dir: string): Promise<RunResult> {
  const origin = await startSwarmPeer({ store, asnResolver: resolver, upload: { regularSlots: 4, optimisticSlots: 1, busyThresholdRequesters: 4, rechokeIntervalMs: 2_000, optimisticIntervalMs: 3_000 } })
  const peers: SwarmPeer[] = []
  for (let k = 1; k <= perAs; k++) {
    for (let as = 1; as <= ases; as++) peers.push(await startSwarmPeer({ listenMultiaddrs: [`/ip4/127.${as}.0.${k}/tcp/0`], asnResolver: resolver, proximity }))
  }
  const started: ProviderInfo[] = []
  const finder = staticFinder(() => [{ ...origin.info(), isOrigin: true }, ...started])
  let intra = 0
  let peerBytes = 0
  let originBytes = 0
  const times: number[] = []
  await Promise.all(peers.map(async (p, i) => {
    await new Promise(resolve => setTimeout(resolve, i * START_SPACING_MS))
    started.push(p.info())
    const res = await p.download(contentId, join(dir, `${proximity ? 'on' : 'off'}-${i}.bin`), { finder, refindIntervalMs: 250 })
    times.push(res.elapsedMs)
    const myAs = resolver.asnOf(ipOfMultiaddr(p.multiaddrs[0]))
    if (process.env.LOC_DEBUG != null) {
      let n = 0; let f = 0; let o = 0
      for (const [addr, bytes] of res.bytesBySource) {
        if (addr.includes(origin.peerId)) o += bytes
        else if (resolver.asnOf(ipOfMultiaddr(addr)) === myAs) n += bytes
        else f += bytes
      }
      const k = PIECE_SIZE_BYTES
      process.stderr.write(`${proximity ? 'on' : 'off'} peer ${i} AS ${myAs}: near ${n / k} far ${f / k} origin ${o / k} in ${res.elapsedMs} ms\n`)
    }
    for (const [addr, bytes] of res.bytesBySource) {
      if (addr.includes(origin.peerId)) { originBytes += bytes; continue }
      peerBytes += bytes
      if (resolver.asnOf(ipOfMultiaddr(addr)) === myAs) intra += bytes
    }
  }))
  for (const p of [origin, ...peers]) await p.stop()
  times.sort((a, b) => a - b)
  return { intraShare: intra / peerBytes, originShare: originBytes / (originBytes + peerBytes), p50Ms: times[Math.floor(times.length / 2)] }
}

async function main (): Promise<void> {
  const ases = Number(process.argv[2] ?? 4)
  const perAs = Number(process.argv[3] ?? 5)
  const sizeMiB = Number(process.argv[4] ?? 16)
  const dir = await mkdtemp(join(tmpdir(), 'swarmcdn-bench-locality-'))
  try {
    const src = join(dir, 'item.bin')
    const fh = await open(src, 'w')
    const chunk = new Uint8Array(1024 * 1024)
    for (let i = 0; i < sizeMiB; i++) { randomFillSync(chunk); await fh.write(chunk) }
    await fh.close()
    const store = await ContentStore.open(join(dir, 'store'))
    const manifest = await publishFile(store, src, generateKeyPairSync('ed25519').privateKey, { pieceSizeBytes: PIECE_SIZE_BYTES })
    const table = fileURLToPath(new URL('../../test/fixtures/loopback-as.csv', import.meta.url))
    const resolver = new AsnResolver(loadPrefixTableFiles([table]))
    const off = await run(false, ases, perAs, store, manifest.contentId, resolver, dir)
    const on = await run(true, ases, perAs, store, manifest.contentId, resolver, dir)
    process.stdout.write(`${ases} ASes x ${perAs} peers, ${sizeMiB} MiB item, ${PIECE_SIZE_BYTES / 1024} KiB pieces\n\n`)
    process.stdout.write('| proximity | intra-AS share of peer bytes | origin share of all bytes | p50 download |\n| --- | --- | --- | --- |\n')
    for (const [name, r] of [['off', off], ['on', on]] as const) {
      process.stdout.write(`| ${name} | ${(r.intraShare * 100).toFixed(1)}% | ${(r.originShare * 100).toFixed(1)}% | ${(r.p50Ms / 1000).toFixed(1)} s |\n`)
    }
    process.stdout.write(`\nintra-AS share on/off: ${(on.intraShare / off.intraShare).toFixed(1)}x (random choice among ${ases * perAs - 1} others would give ${((perAs - 1) / (ases * perAs - 1) * 100).toFixed(0)}%)\n`)
    await store.close()
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

await main()
