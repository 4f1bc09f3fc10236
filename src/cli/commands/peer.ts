/**
 * `swarmcdn peer`: a long-lived overlay peer that serves (and announces)
 * the items of its store until SIGINT/SIGTERM, and downloads the items
 * named with `--get` through the overlay (serving them while they arrive).
 * There is no control protocol: more downloads mean another `--get` at the
 * next start, or `swarmcdn get ... --seed` as its own peer.
 */
import { addRelayOptions, relayInitOf, type RelayCliOptions } from '../relay-options.js'
import { mkdir } from 'node:fs/promises'
import { itemSources } from '../item-sources.js'
import { type Command, InvalidArgumentError, Option } from 'commander'
import { startPeer } from '../../client/peer.js'
import { printStoreChange, reloadingAlto, reloadingResolver } from '../live-reload.js'
import { addAltoOptions, altoOf, type AltoCliOptions } from '../alto-option.js'
import { addAsUploadLimitOption, type AsUploadLimitCliOptions } from '../as-upload-limit-option.js'
import type { OverlayRoleSetting } from '../../net/overlay-service.js'
import { OutputPathError, parseByteSize, parseListenMultiaddr } from '../parse-options.js'
import { exitWithinDeadline } from '../exit-deadline.js'
import { addOverlayOptions, bootstrapOf, primedFinder, printOverlayEvents, untilSignal, type OverlayCliOptions } from '../overlay-options.js'
import { addMetricsOption, metricsLine, type MetricsCliOptions } from '../metrics-option.js'
import { addIdentityOption, identityOf, type IdentityCliOptions } from '../identity-option.js'

interface PeerOptions extends AltoCliOptions, AsUploadLimitCliOptions, OverlayCliOptions, MetricsCliOptions, IdentityCliOptions, RelayCliOptions {
  listen?: string[], store?: string, role: OverlayRoleSetting, json: boolean,
  get?: string[], outputDir: string, uploadSlots?: number, uploadLimit?: number, statusAllow?: string[], upnp: boolean
}

function parsePositiveInt (text: string): number {
  const n = Number(text)
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, got ${text}`)
  return n
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value]

/** Registers the `peer` command. */
export function registerPeer (program: Command): void {
  const cmd = program.command('peer')
    .description('Run a long-lived peer: join the overlay (DHT + supernode tier) and serve the items of a store until SIGINT/SIGTERM.')
    .addOption(new Option('--listen <multiaddr>', 'listen address (repeatable; default /ip4/0.0.0.0/tcp/0)').argParser(parseListenMultiaddr))
    .option('--store <dir>', 'content store whose items are served and announced')
    .addOption(new Option('--role <role>', 'auto (promotion by policy), leaf or supernode').default('auto').argParser((v: string) => {
      if (v !== 'auto' && v !== 'leaf' && v !== 'supernode') throw new InvalidArgumentError('expected auto, leaf or supernode')
      return v
    }))
    .addOption(new Option('--get <content-id|link>', 'download this item through the overlay (and a link\'s peers and web seeds) at start, serving it as it arrives (repeatable)').argParser(collect))
    .option('--output-dir <dir>', 'where --get saves items, as DIR/NAME from the manifest (created if missing; with --store they also join the store)', '.')
    .option('--upload-slots <n>', 'peers served at once; the rest are choked (default 4)', parsePositiveInt)
    .option('--upload-limit <bytesPerSec>', 'total upload rate limit in bytes/s, units allowed (e.g. 2MiB) (default: unlimited)', parseByteSize)
    .addOption(new Option('--status-allow <peer-id>', 'a peer id that may read this peer\'s status from another host (repeatable; the local machine always may)').argParser(collect))
    .option('--json', 'print one JSON event per line', false)
  addMetricsOption(cmd)
  addRelayOptions(cmd)
  cmd.option('--no-upnp', 'do not ask the home router to forward the listen ports (UPnP; default: ask, and remove the forwards on exit)')
  addIdentityOption(cmd)
  addAltoOptions(cmd)
  addAsUploadLimitOption(cmd)
  addOverlayOptions(cmd)
    .addHelpText('after', '\nExample:\n  $ swarmcdn peer --store ./store --bootstrap /ip4/203.0.113.7/tcp/4001/p2p/12D3KooW... --json\n  {"event":"listening","peerId":"12D3KooW...","multiaddrs":[...],"role":"leaf"}\n  $ swarmcdn peer --get \'swarmcdn:?xt=urn:swarmcdn:bafkrei...&bootstrap=/ip4/203.0.113.7/tcp/4001/p2p/12D3KooW...\' --output-dir ./dl\n')
    .action(async (opts: PeerOptions) => {
      // A link's bootstrap members join the peer's; its peers and web seeds are that download's own sources.
      const gets = (opts.get ?? []).map(text => itemSources(text))
      const bootstrap = [...new Set([...await bootstrapOf(opts), ...gets.flatMap(g => g.bootstrap)])]
      // Before we announce anything: a download that can't be saved must not make us a provider.
      if (gets.length > 0) await createOutputDir(opts.outputDir)
      const alto = await altoOf(opts)
      const table = reloadingResolver(opts.prefixTable, opts.json)
      const stopAltoWatch = reloadingAlto(opts, alto, opts.json)
      const peer = await startPeer({
        alto,
        asnResolver: table.resolver,
        watchStore: opts.store != null,
        onStoreChange: change => { printStoreChange(change, opts.json) },
        privateKey: await identityOf(opts),
        upload: { ...(opts.uploadSlots != null ? { regularSlots: opts.uploadSlots } : {}), ...(opts.uploadLimit != null ? { uploadBytesPerSec: opts.uploadLimit } : {}), ...(opts.asUploadLimit != null ? { asUploadLimits: opts.asUploadLimit } : {}) },
        storeDir: opts.store,
        listenMultiaddrs: opts.listen,
        bootstrap,
        publicIp: opts.publicIp,
        role: opts.role,
        proximity: opts.proximity,
        statusAllowPeerIds: opts.statusAllow,
        metrics: opts.metrics,
        relay: relayInitOf(opts),
        upnp: opts.upnp
      })
      // Listen for the stop signal before saying we listen: whoever reads that line may signal at once.
      const signalled = untilSignal()
      printOverlayEvents(peer.overlay, opts.json)
      for (const s of peer.store?.skipped ?? []) {
        if (opts.json) process.stdout.write(JSON.stringify({ event: 'skipped', entry: s.entry, reason: s.reason }) + '\n')
        else process.stderr.write(`swarmcdn: skipped store item ${s.entry}: ${s.reason}\n`)
      }
      const s = peer.status()
      if (opts.json) process.stdout.write(JSON.stringify({ event: 'listening', peerId: peer.peerId, multiaddrs: peer.multiaddrs(), role: s.role, items: s.items, bootstrap: bootstrap.length, metrics: peer.metricsUrl }) + '\n')
      else {
        process.stdout.write(`peer ${peer.peerId} (${s.role}), ${s.items} item(s), ${bootstrap.length} bootstrap address(es)\n`)
        for (const a of peer.multiaddrs()) process.stdout.write(`listening on ${a}\n`)
        if (peer.metricsUrl != null) process.stdout.write(`${metricsLine(peer.metricsUrl)}\n`)
      }
      const stopping = new AbortController()
      const emit = (obj: Record<string, unknown>, text: string): void => { process.stdout.write(opts.json ? JSON.stringify(obj) + '\n' : text + '\n') }
      const downloads = gets.map(async ({ contentId, peers, webSeeds }) => {
        // The folder: the item is saved inside it under the manifest's file name.
        const output = opts.outputDir
        emit({ event: 'download:started', contentId, output }, `downloading ${contentId} into ${output}`)
        try {
          const sources = [...peers.map(address => ({ address })), ...webSeeds.map(address => ({ address, isOrigin: true }))]
          // Sources from a link start the download at once; the overlay's answers join later (as get does).
          const finder = sources.length > 0 ? primedFinder([], peer.finder) : peer.finder
          const r = await peer.download(contentId, output, { signal: stopping.signal, sources, finder })
          const bySource = Object.fromEntries(r.bytesBySource)
          emit({ event: 'download:done', contentId, output: r.outputPath, lengthBytes: r.manifest.lengthBytes, elapsedMs: r.elapsedMs, sources: r.bytesBySource.size, bytesBySource: bySource },
            `downloaded ${contentId} to ${r.outputPath} (${r.manifest.lengthBytes} bytes) in ${(r.elapsedMs / 1000).toFixed(1)} s from ${r.bytesBySource.size} source(s); serving it`)
        } catch (err) {
          if (stopping.signal.aborted) return
          emit({ event: 'download:error', contentId, error: (err as Error).message }, `swarmcdn: download of ${contentId} failed: ${(err as Error).message}`)
        }
      })
      const signal = await signalled
      exitWithinDeadline()
      stopping.abort(new Error('stopped'))
      await Promise.all(downloads)
      table.stop()
      stopAltoWatch()
      await peer.stop()
      if (opts.json) process.stdout.write(JSON.stringify({ event: 'stopped', signal }) + '\n')
      else process.stdout.write(`stopped (${signal})\n`)
    })
}

/** The folder --get saves into, created with its parents; a file in the way is one clear line. */
async function createOutputDir (dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EEXIST' || code === 'ENOTDIR') throw new OutputPathError(`cannot use --output-dir ${dir}: it or a folder above it is a file`)
    throw new OutputPathError(`cannot create --output-dir ${dir}: ${(err as Error).message}`)
  }
}
