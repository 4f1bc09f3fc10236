import type { Command } from 'commander'
import cliProgress from 'cli-progress'
import type { DownloadProgress } from '../../client/download-content.js'
import { startSwarmPeer, staticFinder, type ProviderFinder, type ProviderInfo, type SwarmDownloadInit, type SwarmDownloadResult, type SwarmPeer } from '../../client/swarm-peer.js'
import { startPeer } from '../../client/peer.js'
import { addOverlayOptions, bootstrapOf, DEFAULT_FIND_TIMEOUT_SEC, findFirstProviders, NoSourceError, primedFinder, type OverlayCliOptions } from '../overlay-options.js'
import { prefixTableResolver } from '../../client/lazy-asn-resolver.js'
import { addSourceOptions, ITEM_ARGUMENT_HELP, itemSources, type SourceCliOptions } from '../item-sources.js'
import { multiaddr } from '@multiformats/multiaddr'
import { InvalidArgumentError } from 'commander'
import { assertOutputDirExists, parseByteSize, parseListenMultiaddr, parsePeerMultiaddr } from '../parse-options.js'
import { exitWithinDeadline } from '../exit-deadline.js'
import { DEFAULT_MAX_ITEM_SIZE_BYTES, formatBytes, OutputExistsError } from '../../client/download-target.js'
import { addLocalityCounts, formatLocalityBytes } from '../locality-text.js'
import { addFleetOption, findFleetOrThrow, fleetOf, parsePublisherKey, type FleetCliOptions } from '../fleet-option.js'
import { fleetOriginsFor } from '../../client/fleet-origins.js'
import { addAltoOptions, altoOf, type AltoCliOptions } from '../alto-option.js'
import { addAsUploadLimitOption, type AsUploadLimitCliOptions } from '../as-upload-limit-option.js'

interface GetOptions extends OverlayCliOptions, SourceCliOptions, FleetCliOptions, AltoCliOptions, AsUploadLimitCliOptions {
  origin: string[], output: string, json: boolean, seed: boolean, listen: string[], store?: string,
  uploadSlots?: number, uploadLimit?: number, findTimeout: number, force: boolean, wait: boolean, maxItemSize: number, upnp: boolean
}

/** What `get` downloads with: a swarm peer alone (`--peer`/`--origin`) or the peer runtime in the overlay. */
interface Runtime { swarm: SwarmPeer, overlayFinder?: ProviderFinder, download: (id: string, out: string, init: SwarmDownloadInit) => Promise<SwarmDownloadResult>, stop: () => Promise<void> }

function parsePositiveInt (text: string): number {
  const n = Number(text)
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, got ${text}`)
  return n
}

/** A --peer/--origin multiaddr as a provider, when it names its peer id (/p2p/...); else undefined. */
function providerOf (addr: string, isOrigin: boolean): ProviderInfo | undefined {
  const id = multiaddr(addr).getComponents().findLast(c => c.name === 'p2p')?.value
  return id == null ? undefined : { peerId: id, multiaddrs: [addr], isOrigin }
}


/** `swarmcdn get`: download an item, verified piece by piece, resumable. */
export function registerGet (program: Command): void {
  const cmd: Command = program.command('get')
    .description('Download an item by content id or link from many peers at once (given with --peer or --web-seed, or found through the overlay from --bootstrap, or named by the link); verifies every piece, resumes after an interruption.')
    .argument('<content-id|link>', ITEM_ARGUMENT_HELP)
  addSourceOptions(cmd, 'a peer to download from (repeatable: downloads from all at once)')
    .option('--origin <multiaddr>', 'an origin seeder, used for what peers cannot supply (repeatable)', parsePeerMultiaddr, [] as string[])
    .option('--seed', 'keep serving the item after the download completes, until Ctrl-C', false)
    .option('--no-upnp', 'with --seed: do not ask the home router to forward the listen port (UPnP; default: ask, and remove the forward on exit)')
    .option('--listen <multiaddr>', 'where to serve pieces to other peers, during and after the download (repeatable)', parseListenMultiaddr, [] as string[])
    .option('--store <dir>', 'add the completed item to this content store (and serve it from there)')
    .option('--upload-slots <n>', 'peers served at once; the rest are choked (default 4)', parsePositiveInt)
    .option('--upload-limit <bytesPerSec>', 'total upload rate limit in bytes/s (default: unlimited)', parsePositiveInt)
    .requiredOption('-o, --output <file>', 'where to write the item (an existing directory: saved inside it under the item\'s name)')
    .option('--force', 'overwrite an existing file at the output that is not this item', false)
    .option('--wait', 'if another swarmcdn process is downloading into the same output, wait for it instead of exiting', false)
    .option('--max-item-size <bytes>', `refuse items larger than this (e.g. 50GiB, 2TiB; default ${formatBytes(DEFAULT_MAX_ITEM_SIZE_BYTES)})`, parseByteSize, DEFAULT_MAX_ITEM_SIZE_BYTES)
    .option('--json', 'print one JSON progress object per line', false)
    .option('--find-timeout <seconds>', `without --peer: how long the overlay may take to find a first provider (default ${DEFAULT_FIND_TIMEOUT_SEC})`, parsePositiveInt, DEFAULT_FIND_TIMEOUT_SEC)
  addAltoOptions(cmd)
  addAsUploadLimitOption(cmd)
  addFleetOption(cmd, 'use the publisher\'s origin seeders one at a time in rendezvous order, failing over to the next when one is lost or stalls')
    .option('--fleet-publisher <key>', 'like --fleet, with the record found through the overlay (needs --bootstrap): the publisher\'s public key, 64 hex digits', parsePublisherKey)
  addOverlayOptions(cmd)
    .addHelpText('after', '\nExample:\n  $ swarmcdn get \'swarmcdn:?xt=urn:swarmcdn:bafkrei...&peer=/ip4/203.0.113.7/tcp/4001/p2p/12D3KooW...&ws=http://203.0.113.7:8080/c/bafkrei...\' -o talk.mp4\n  $ swarmcdn get bafkrei... --bootstrap /ip4/203.0.113.7/tcp/4001/p2p/12D3KooW... -o talk.mp4 --seed\n  $ swarmcdn get bafkrei... --peer /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW... -o talk.mp4\n  $ swarmcdn get bafkrei... --origin /ip4/10.0.0.1/tcp/4001/p2p/12D3KooA... --peer /ip4/127.0.0.1/tcp/4002/p2p/12D3KooB... --peer /ip4/127.0.0.1/tcp/4003/p2p/12D3KooC... -o talk.mp4 --seed\n')
    .action(async (id: string, opts: GetOptions) => {
      // A link's peers, bootstrap members and web seeds count as if given with their flags.
      const item = itemSources(id, opts)
      const contentId = item.contentId
      await assertOutputDirExists(opts.output)
      const bootstrap = [...new Set([...await bootstrapOf(opts), ...item.bootstrap])]
      let fleet = await fleetOf(opts)
      if (opts.fleetPublisher != null && bootstrap.length === 0) throw new InvalidArgumentError('--fleet-publisher finds the fleet through the overlay: it needs --bootstrap')
      const alto = await altoOf(opts)
      if (item.peers.length + opts.origin.length + item.webSeeds.length === 0 && bootstrap.length === 0 && fleet == null) throw new NoSourceError()
      const peers = item.peers.map(a => ({ address: a, isOrigin: false }))
      const providers = item.peers.map(a => providerOf(a, false)).filter(p => p != null)
      // Addresses without a peer id can't be ranked or de-duplicated by peer: dial them as given.
      // --origin only tells the piece picker to spare a source; whether its bytes
      // count as from an origin is what the source says itself (its xfer handshake).
      // A web seed is the publisher's: an origin.
      const direct = [...opts.origin.map(a => ({ address: a, isOrigin: true })), ...peers.filter(p => providerOf(p.address, false) == null), ...item.webSeeds.map(u => ({ address: u, isOrigin: true }))]
      const given = [...direct, ...peers]
      const upload = { ...(opts.uploadSlots != null ? { regularSlots: opts.uploadSlots } : {}), ...(opts.uploadLimit != null ? { uploadBytesPerSec: opts.uploadLimit } : {}), ...(opts.asUploadLimit != null ? { asUploadLimits: opts.asUploadLimit } : {}) }
      const listen = opts.listen.length > 0 ? opts.listen : ['/ip4/0.0.0.0/tcp/0']
      let runtime: Runtime
      if (bootstrap.length > 0) {
        // A leaf in the overlay: finds providers there, announces the item once its manifest verified.
        // Only a get that keeps seeding asks the router for a port forward: a one-off download has nothing to offer after it.
        const peer = await startPeer({ alto, role: 'leaf', bootstrap, listenMultiaddrs: listen, storeDir: opts.store, prefixTablePaths: opts.prefixTable, proximity: opts.proximity, publicIp: opts.publicIp, upload, upnp: opts.seed && opts.upnp })
        runtime = { swarm: peer.swarm, overlayFinder: peer.finder, download: peer.download, stop: peer.stop }
      } else {
        // Transit accounting places every source, so even one peer needs the table; the default one is read at the first public address (lazy-asn-resolver.ts).
        const resolver = prefixTableResolver(opts.prefixTable)
        const swarm = await startSwarmPeer({ alto, listenMultiaddrs: listen, storeDir: opts.store, proximity: opts.proximity, asnResolver: resolver, upload })
        runtime = { swarm, download: swarm.download, stop: swarm.stop }
      }
      const swarm = runtime.swarm
      const ac = new AbortController()
      const onSignal = (): void => { exitWithinDeadline(); ac.abort(new Error('interrupted; run the same command again to resume')) }
      process.once('SIGINT', onSignal)
      process.once('SIGTERM', onSignal)
      const tty = process.stderr.isTTY && !opts.json
      let bar: cliProgress.SingleBar | undefined
      let lastJsonMs = 0
      const started = Date.now()
      const onProgress = (p: DownloadProgress): void => {
        if (opts.json) {
          const now = Date.now()
          if (now - lastJsonMs < 250 && p.verifiedPieces < p.pieceCount) return
          lastJsonMs = now
          process.stdout.write(JSON.stringify({ event: 'progress', ...p, elapsedMs: now - started }) + '\n')
        } else if (bar != null) {
          bar.update(p.verifiedBytes)
        }
      }
      try {
        let finder = staticFinder(providers)
        if (runtime.overlayFinder != null) {
          const overlay = runtime.overlayFinder
          if (opts.fleetPublisher != null && fleet == null) {
            fleet = await findFleetOrThrow(swarm.node, overlay, opts.fleetPublisher, opts.findTimeout, ac.signal)
            if (opts.json) process.stdout.write(JSON.stringify({ event: 'fleet', sequence: fleet.sequence, seeders: fleet.seeders.length }) + '\n')
          }
          const first = given.length > 0 || fleet != null ? [] : await findFirstProviders(overlay, contentId, opts.findTimeout, ac.signal)
          if (opts.json) process.stdout.write(JSON.stringify({ event: 'providers', contentId, providers: first.length, origins: first.filter(p => p.isOrigin === true).length }) + '\n')
          const fresh = primedFinder(first, overlay)
          finder = async (cid, o) => [...providers, ...await fresh(cid, o)]
        }
        const result = await runtime.download(contentId, opts.output, {
          finder,
          sources: direct,
          fleetOrigins: fleet == null ? undefined : { origins: fleetOriginsFor(fleet, contentId) },
          maxPeers: Math.max(8, item.peers.length),
          onSourceError: (addr, err) => {
            if (opts.json) process.stdout.write(JSON.stringify({ event: 'source-error', address: addr, error: err.message }) + '\n')
          },
          // When each source's piece connection came up and of which kind (direct, reverse: it dialled us, relayed).
          onSourceConnected: (addr, info) => {
            if (opts.json) process.stdout.write(JSON.stringify({ event: 'source-connected', address: addr, connectionKind: info.connectionKind, elapsedMs: Date.now() - started }) + '\n')
          },
          signal: ac.signal,
          overwrite: opts.force,
          waitForLock: opts.wait,
          maxItemSizeBytes: opts.maxItemSize,
          onLockWait: owner => {
            const who = owner == null ? 'another process' : `process ${owner.pid}`
            if (opts.json) process.stdout.write(JSON.stringify({ event: 'waiting', reason: 'output-locked', pid: owner?.pid }) + '\n')
            else process.stderr.write(`waiting for ${who}, which is downloading into ${opts.output}\n`)
          },
          onManifest: m => {
            if (opts.json) {
              process.stdout.write(JSON.stringify({ event: 'manifest', contentId: m.contentId, name: m.name, mediaType: m.mediaType, lengthBytes: m.lengthBytes, pieceCount: m.pieceCount }) + '\n')
            } else if (tty) {
              bar = new cliProgress.SingleBar({
                format: `${m.name} [{bar}] {percentage}% | {value_h}/{total_h} | {rate} | ETA {eta_formatted}`,
                formatValue: (v, _o, type) => (type === 'value' || type === 'total') ? mib(v) : String(v),
                hideCursor: true
              }, cliProgress.Presets.shades_classic)
              bar.start(m.lengthBytes, 0, { value_h: mib(0), total_h: mib(m.lengthBytes), rate: '' })
            }
          },
          onProgress: p => {
            if (bar != null) {
              const secs = (Date.now() - started) / 1000
              const rate = secs > 0 ? `${((p.verifiedBytes - p.resumedPieces * 0) / 1048576 / secs).toFixed(1)} MiB/s` : ''
              bar.update(p.verifiedBytes, { value_h: mib(p.verifiedBytes), total_h: mib(p.totalBytes), rate })
            }
            onProgress(p)
          }
        }).catch((err: unknown) => {
          if (err instanceof OutputExistsError) throw new OutputExistsError(`${err.message}; pass --force to overwrite it, or -o to save elsewhere`)
          throw err
        })
        bar?.stop()
        // Bounded by the report's own timeout; undefined when no origin was known or it did not answer.
        const deliveryReport = await result.deliveryReport
        const secs = result.elapsedMs / 1000
        const mibps = result.manifest.lengthBytes / 1048576 / Math.max(secs, 0.001)
        if (opts.json) {
          process.stdout.write(JSON.stringify({ event: 'done', contentId, output: result.outputPath, lengthBytes: result.manifest.lengthBytes, fetchedPieces: result.fetchedPieces, resumedPieces: result.resumedPieces, elapsedMs: result.elapsedMs, ...swarm.stats().traffic, bytesBySource: Object.fromEntries(result.bytesBySource), bytesByKind: result.bytesByKind, bytesByConnection: result.bytesByConnection, deliveryReport: deliveryReport ?? null, failovers: result.failovers }) + '\n')
        } else if (result.fetchedPieces === 0 && result.resumedPieces === result.manifest.pieceCount) {
          process.stderr.write(`${result.outputPath} is already complete (${result.manifest.lengthBytes} bytes, ${result.manifest.pieceCount} pieces verified)\n`)
        } else {
          process.stderr.write(`saved ${result.outputPath} (${result.manifest.lengthBytes} bytes, ${result.manifest.pieceCount} pieces verified${result.resumedPieces > 0 ? `, ${result.resumedPieces} resumed` : ''}) in ${secs.toFixed(1)} s, ${mibps.toFixed(1)} MiB/s\n`)
          const t = swarm.stats().traffic
          process.stderr.write(`  ${mib(t.downloadedFromPeersBytes)} from peers, ${mib(t.downloadedFromSeedersBytes)} from seeders, ${result.bytesBySource.size} source(s):\n`)
          for (const [addr, bytes] of result.bytesBySource) process.stderr.write(`  ${mib(bytes)} from ${addr}\n`)
          for (const f of result.failovers) process.stderr.write(`  origin ${f.from} ${f.reason === 'lost' ? 'was lost' : 'stalled'}; went on with ${f.to}${f.lostMs !== undefined ? `, ${(f.lostMs / 1000).toFixed(1)} s lost` : ''}\n`)
          process.stderr.write(`  transit: ${formatLocalityBytes(addLocalityCounts(result.bytesByKind.origin, result.bytesByKind.peer), mib)}\n`)
        }
        if (opts.seed) {
          // The stop signal is listened for before the line that invites it, then the download's handler goes.
          const stopRequested = new Promise<void>(resolve => { process.once('SIGINT', resolve); process.once('SIGTERM', resolve) })
          process.off('SIGINT', onSignal)
          process.off('SIGTERM', onSignal)
          if (opts.json) process.stdout.write(JSON.stringify({ event: 'seeding', contentId, peerId: swarm.peerId, multiaddrs: swarm.multiaddrs }) + '\n')
          else {
            process.stderr.write(`seeding ${contentId} as ${swarm.peerId}${runtime.overlayFinder != null ? ', announced in the overlay' : ''} (Ctrl-C to stop)\n`)
            for (const a of swarm.multiaddrs) process.stderr.write(`  listening on ${a}\n`)
          }
          await stopRequested
          const up = swarm.gate.bytesUploaded
          if (opts.json) process.stdout.write(JSON.stringify({ event: 'stopped', uploadedBytes: up }) + '\n')
          else process.stderr.write(`stopped after uploading ${mib(up)}\n`)
        }
      } finally {
        await runtime.stop()
        bar?.stop()
        process.off('SIGINT', onSignal)
        process.off('SIGTERM', onSignal)
      }
    })
}

function mib (bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`
}
