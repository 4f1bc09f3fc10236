import type { Command } from 'commander'
import { InvalidArgumentError } from 'commander'
import { spawn, type ChildProcess } from 'node:child_process'
import cliProgress from 'cli-progress'
import { addSourceOptions, ITEM_ARGUMENT_HELP, itemSources, type SourceCliOptions } from '../item-sources.js'
import { StreamingDownload } from '../../client/streaming-download.js'
import { GATEWAY_DEFAULTS, startStreamingGateway, StreamingItems } from '../../client/streaming-gateway.js'
import { addHttpLimitOptions, httpLimitsOf } from '../http-limit-options.js'
import { parseNonNegativeInt } from '../parse-options.js'
import { exitWithinDeadline } from '../exit-deadline.js'
import { assertOutputWritable, resolveOutputPath } from '../../client/download-target.js'
import { fetchSourceManifest, type DownloadProgress, type DownloadSource } from '../../client/download-content.js'
import { startPeer, type Peer } from '../../client/peer.js'
import { startSwarmPeer, type ProviderFinder, type ProviderInfo, type SwarmDownloadResult, type SwarmPeer } from '../../client/swarm-peer.js'
import { AsnResolver } from '../../core/proximity/asn-resolver.js'
import { loadPrefixTableFiles } from '../../client/prefix-table-files.js'
import { addFleetOption, findFleetOrThrow, fleetOf, parsePublisherKey, type FleetCliOptions } from '../fleet-option.js'
import { fleetOriginsFor } from '../../client/fleet-origins.js'
import { addAltoOptions, altoOf, type AltoCliOptions } from '../alto-option.js'
import type { VerifiedManifest } from '../../core/content/manifest.js'
import { addOverlayOptions, bootstrapOf, DEFAULT_FIND_TIMEOUT_SEC, findFirstProviders, NoSourceError, primedFinder, type OverlayCliOptions } from '../overlay-options.js'

interface StreamOptions extends OverlayCliOptions, SourceCliOptions, FleetCliOptions, AltoCliOptions { port: number, player?: string, output?: string, json: boolean, findTimeout: number }

/** A provider as a download source (origins are the fallback). */
function sourceOf (p: ProviderInfo): DownloadSource {
  const addr = p.multiaddrs[0]
  return { address: addr.includes('/p2p/') ? addr : `${addr}/p2p/${p.peerId}`, isOrigin: p.isOrigin === true }
}

/** A bad argument found inside the action (commander only prints its own errors thrown while parsing). */
export class StreamArgumentError extends Error {
  override name = 'StreamArgumentError'
  readonly code = 'ERR_STREAM_ARGUMENT'
}

/** Players known by name; anything else is a command line split on spaces (no shell), the URL appended. */
const PLAYERS: Record<string, string[]> = { mpv: ['mpv'], vlc: ['vlc'] }


function parsePort (text: string): number {
  const port = parseNonNegativeInt(text)
  if (port > 65535) throw new InvalidArgumentError(`not a TCP port: ${text}`)
  return port
}

/** The argv of the player to start on `url`. */
export function playerCommand (player: string, url: string): string[] {
  const argv = PLAYERS[player] ?? player.trim().split(/\s+/).filter(s => s.length > 0)
  if (argv.length === 0) throw new StreamArgumentError('--player needs a command (mpv, vlc, or a command line)')
  return [...argv, url]
}

/** `swarmcdn stream`: download an item and play it while it downloads, through a local HTTP URL. */
export function registerStream (program: Command): void {
  const cmd: Command = program.command('stream')
    .description('Download an item and serve it to a media player at http://127.0.0.1:PORT/c/ID/NAME while it downloads (seeking works); the download is kept and resumable.')
    .argument('<content-id|link>', ITEM_ARGUMENT_HELP)
  addSourceOptions(cmd, 'a source to download from (repeatable); without it (or --web-seed), sources are found through the overlay (--bootstrap)')
    .option('--port <n>', 'gateway port on 127.0.0.1 (0 = any free port)', parsePort, 0)
    .option('--player <cmd>', 'start this player on the URL and exit when it exits: mpv, vlc, or a command line (run without a shell)')
    .option('-o, --output <file>', 'where to save the item; a directory saves inside it (default: ./NAME from the manifest)')
    .option('--json', 'print one JSON object per line (url, progress, done)', false)
    .option('--find-timeout <seconds>', `without --peer: how long the overlay may take to find a first provider (default ${DEFAULT_FIND_TIMEOUT_SEC})`, parsePort, DEFAULT_FIND_TIMEOUT_SEC)
  addHttpLimitOptions(cmd, 'gateway-', 'gateway', GATEWAY_DEFAULTS)
  addAltoOptions(cmd)
  addFleetOption(cmd, 'use the publisher\'s origin seeders one at a time in rendezvous order, failing over to the next when one is lost or stalls (as get does)')
    .option('--fleet-publisher <key>', 'like --fleet, with the record found through the overlay (needs --bootstrap): the publisher\'s public key, 64 hex digits', parsePublisherKey)
  addOverlayOptions(cmd)
    .addHelpText('after', `
The --gateway-* limits keep a local program that opens connections and never
finishes its request (slowloris) from locking the player out of the gateway.

Example:
  $ swarmcdn stream 'swarmcdn:?xt=urn:swarmcdn:bafkrei...&ws=http://203.0.113.7:8080/c/bafkrei...' --player mpv
  $ swarmcdn stream bafkrei... --bootstrap /ip4/203.0.113.7/tcp/4001/p2p/12D3KooW... --player mpv
  $ swarmcdn stream bafkrei... --peer /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW... --player mpv
  $ swarmcdn stream bafkrei... --fleet fleet.json --player mpv
  streaming talk.mp4 (video/mp4, 1.0 GiB) at http://127.0.0.1:41327/c/bafkrei.../talk.mp4
`)
    .action(async (id: string, opts: StreamOptions) => {
      // A link's peers, bootstrap members and web seeds count as if given with their flags.
      const item = itemSources(id, opts)
      const contentId = item.contentId
      const given: DownloadSource[] = [...item.peers.map(address => ({ address })), ...item.webSeeds.map(address => ({ address, isOrigin: true }))]
      const bootstrap = given.length === 0 || opts.fleetPublisher != null ? [...new Set([...await bootstrapOf(opts), ...item.bootstrap])] : []
      if (opts.fleetPublisher != null && bootstrap.length === 0) throw new InvalidArgumentError('--fleet-publisher finds the fleet through the overlay: it needs --bootstrap')
      let fleet = await fleetOf(opts)
      if (given.length === 0 && bootstrap.length === 0 && fleet == null) throw new NoSourceError()
      const alto = await altoOf(opts)
      const ac = new AbortController()
      const stop = (why: string): void => { if (!ac.signal.aborted) ac.abort(new Error(why)) }
      const onSignal = (): void => { exitWithinDeadline(); stop('interrupted') }
      process.once('SIGINT', onSignal)
      process.once('SIGTERM', onSignal)
      const emit = (obj: Record<string, unknown>): void => { process.stdout.write(JSON.stringify(obj) + '\n') }
      // The download runs in a swarm peer, as get's does: its source choice, fleet failover and
      // delivery report are the same code, and it serves the verified pieces it streams.
      // With the overlay: a leaf that finds sources there and announces the item.
      const peer: Peer | undefined = bootstrap.length > 0
        ? await startPeer({ alto, role: 'leaf', bootstrap, prefixTablePaths: opts.prefixTable, proximity: opts.proximity, publicIp: opts.publicIp })
        : undefined
      // Without the overlay nobody can find us to ask for pieces: no listener, and dials leave from the default address (a listener costs start-up time).
      const swarm: SwarmPeer = peer?.swarm ?? await startSwarmPeer({ alto, proximity: opts.proximity, asnResolver: new AsnResolver(loadPrefixTableFiles(opts.prefixTable)), listenMultiaddrs: [] })
      let bar: cliProgress.SingleBar | undefined
      let player: ChildProcess | undefined
      try {
        let finder: ProviderFinder | undefined
        let found: ProviderInfo[] = []
        if (peer != null) {
          if (opts.fleetPublisher != null && fleet == null) {
            fleet = await findFleetOrThrow(swarm.node, peer.finder, opts.fleetPublisher, opts.findTimeout, ac.signal)
            if (opts.json) emit({ event: 'fleet', sequence: fleet.sequence, seeders: fleet.seeders.length })
          }
          found = given.length > 0 || fleet != null ? [] : await findFirstProviders(peer.finder, contentId, opts.findTimeout, ac.signal)
          finder = primedFinder(found, peer.finder)
        }
        const fleetOrigins = fleet == null ? undefined : fleetOriginsFor(fleet, contentId)
        // The manifest first, for the default file name (the download fetches it again: a small message):
        // peers first (nearest first, as the overlay ranks them), origins, then the fleet's owners in rendezvous order.
        const manifestSources = [...given, ...found.filter(p => p.isOrigin !== true).slice(0, 8), ...found.filter(p => p.isOrigin === true), ...fleetOrigins ?? []].map(s => 'peerId' in s ? sourceOf(s) : s)
        const manifest = await firstManifest(swarm.node, manifestSources, contentId, ac.signal)
        // -o DIR (or none: the current folder) saves under the item's name, as `get` does.
        const output = await resolveOutputPath(opts.output ?? '.', manifest)
        await assertOutputWritable(output, { hint: 'a finished download? play it directly or pass -o to save elsewhere' })
        let lastJsonMs = 0
        const started = Date.now()
        const onProgress = (p: DownloadProgress): void => {
          const now = Date.now()
          if (opts.json) {
            if (now - lastJsonMs < 500 && p.verifiedPieces < p.pieceCount) return
            lastJsonMs = now
            emit({ event: 'progress', verifiedBytes: p.verifiedBytes, totalBytes: p.totalBytes, verifiedPieces: p.verifiedPieces, pieceCount: p.pieceCount, activeSources: p.activeSources, elapsedMs: now - started })
          } else {
            bar?.update(p.verifiedBytes, { value_h: mib(p.verifiedBytes) })
          }
        }
        let swarmResult: SwarmDownloadResult | undefined
        const download = await StreamingDownload.start(contentId, output, given, {
          signal: ac.signal,
          onProgress,
          onSourceError: (address, err) => { if (opts.json) emit({ event: 'source-error', address, error: err.message }) },
          download: async (cid, out, sources, init) => {
            const { node: _node, onSessionStarted: _started, onPartialOpened: _opened, ...rest } = init
            swarmResult = await swarm.download(cid, out, { ...rest, sources, finder, fleetOrigins: fleetOrigins == null ? undefined : { origins: fleetOrigins } })
            return swarmResult
          }
        })
        const items = new StreamingItems()
        items.add(download)
        const gateway = await startStreamingGateway({ ...httpLimitsOf(opts, 'gateway-'), downloads: items, port: opts.port, signal: ac.signal })
        const url = gateway.urlFor(download)
        if (opts.json) {
          emit({ event: 'streaming', url, contentId, name: manifest.name, mediaType: manifest.mediaType, lengthBytes: manifest.lengthBytes, output })
        } else {
          process.stdout.write(`streaming ${manifest.name} (${manifest.mediaType}, ${mib(manifest.lengthBytes)}) at ${url}\n`)
          process.stderr.write(`saving to ${output}; Ctrl-C stops (run the same command again to resume)\n`)
          if (process.stderr.isTTY) {
            bar = new cliProgress.SingleBar({ format: `downloaded [{bar}] {percentage}% | {value_h}/{total_h}`, hideCursor: true }, cliProgress.Presets.shades_classic)
            bar.start(manifest.lengthBytes, 0, { value_h: mib(0), total_h: mib(manifest.lengthBytes) })
          }
        }
        download.done.then(async result => {
          bar?.update(manifest.lengthBytes, { value_h: mib(manifest.lengthBytes) })
          bar?.stop()
          // Bounded by the report's own timeout; null when no origin was known or it did not answer.
          const deliveryReport = await swarmResult?.deliveryReport
          const failovers = swarmResult?.failovers ?? []
          if (opts.json) emit({ event: 'done', output, fetchedPieces: result.fetchedPieces, resumedPieces: result.resumedPieces, elapsedMs: result.elapsedMs, bytesByKind: swarmResult?.bytesByKind, deliveryReport: deliveryReport ?? null, failovers })
          else {
            for (const f of failovers) process.stderr.write(`origin ${f.from} ${f.reason === 'lost' ? 'was lost' : 'stalled'}; went on with ${f.to}${f.lostMs !== undefined ? `, ${(f.lostMs / 1000).toFixed(1)} s lost` : ''}\n`)
            process.stderr.write(`download complete: ${output}; still serving until ${opts.player != null ? 'the player exits' : 'Ctrl-C'}\n`)
          }
        }, (err: Error) => {
          if (ac.signal.aborted) return
          bar?.stop()
          if (opts.json) emit({ event: 'download-error', error: err.message })
          else process.stderr.write(`swarmcdn: download stopped: ${err.message} (verified parts can still be played)\n`)
        })
        if (opts.player != null) {
          const argv = playerCommand(opts.player, url)
          player = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'inherit', 'inherit'] })
          player.once('error', err => { process.stderr.write(`swarmcdn: cannot start player ${argv[0]}: ${err.message}\n`); process.exitCode = 1; stop('player failed') })
          player.once('exit', code => {
            if (opts.json) emit({ event: 'player-exit', code })
            stop('player exited')
          })
        }
        await new Promise<void>(resolve => { ac.signal.addEventListener('abort', () => { resolve() }, { once: true }) })
        await gateway.close()
        await download.done.catch(() => {})
        bar?.stop()
        if (opts.json) emit({ event: 'stopped', complete: download.isComplete, verifiedPieces: download.verifiedPieces, pieceCount: manifest.pieceCount })
        else if (!download.isComplete) process.stderr.write(`stopped with ${download.verifiedPieces}/${manifest.pieceCount} pieces; the partial download is kept for a resume\n`)
      } finally {
        bar?.stop()
        if (player != null && player.exitCode == null && player.signalCode == null) player.kill('SIGTERM')
        process.off('SIGINT', onSignal)
        process.off('SIGTERM', onSignal)
        if (peer != null) await peer.stop(); else await swarm.stop()
      }
    })
}

/** The manifest from the first source that gives one (every source's error in the message otherwise). */
async function firstManifest (node: Parameters<typeof fetchSourceManifest>[0], sources: DownloadSource[], contentId: string, signal: AbortSignal): Promise<VerifiedManifest> {
  let last: unknown
  for (const s of sources) {
    try { return await fetchSourceManifest(node, s.address, contentId, { signal }) } catch (err) { if (signal.aborted) throw err; last = err }
  }
  throw last ?? new StreamArgumentError('no source')
}

function mib (bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(1)} GiB` : `${(bytes / 1048576).toFixed(1)} MiB`
}
