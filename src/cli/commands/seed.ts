import type { Command } from 'commander'
import { addRelayOptions, relayInitOf, type RelayCliOptions } from '../relay-options.js'
import { InvalidArgumentError } from 'commander'
import { DEFAULT_ORIGIN_BUSY_THRESHOLD_REQUESTERS, DEFAULT_ORIGIN_UPLOAD_SLOTS, startOriginSeeder } from '../../../seeders/origin-seeder.js'
import { WEBSEED_DEFAULTS } from '../../../seeders/web-seed.js'
import { DEFAULT_STALL_TIMEOUT_MS } from '../../net/xfer-server.js'
import { DEFAULT_FRAME_TIMEOUT_MS } from '../../net/framed-stream.js'
import { DEFAULT_MAX_QUEUED_REQUESTS_PER_NETWORK, DEFAULT_MAX_QUEUED_REQUESTS_PER_PEER, DEFAULT_MAX_STREAMS_PER_NETWORK, DEFAULT_MAX_STREAMS_PER_PEER } from '../../core/swarm/requester-quotas.js'
import { DEFAULT_BAN_MS, DEFAULT_MAX_OFFENSES } from '../../core/abuse/offense-ledger.js'
import { DEFAULT_MAX_RECORDS_PER_NETWORK, DEFAULT_MAX_RECORDS_PER_PROVIDER } from '../../core/dht/provider-store.js'
import { parseByteSize, parseHostPort, parseListenMultiaddr, parseNonNegativeInt } from '../parse-options.js'
import { addHttpLimitOptions, httpLimitsOf } from '../http-limit-options.js'
import { addOverlayOptions, bootstrapOf, printOverlayEvents, type OverlayCliOptions } from '../overlay-options.js'
import { addMetricsOption, metricsLine, type MetricsCliOptions } from '../metrics-option.js'
import { addIdentityOption, identityOf, type IdentityCliOptions } from '../identity-option.js'
import { addFleetOption, fleetOf, type FleetCliOptions } from '../fleet-option.js'
import { watchFleetFile } from '../fleet-reload.js'
import { printStoreChange, reloadingAlto, reloadingResolver } from '../live-reload.js'
import { addAltoOptions, altoOf, type AltoCliOptions } from '../alto-option.js'
import { addAsUploadLimitOption, type AsUploadLimitCliOptions } from '../as-upload-limit-option.js'

interface SeedOptions extends AltoCliOptions, AsUploadLimitCliOptions, OverlayCliOptions, MetricsCliOptions, IdentityCliOptions, FleetCliOptions, RelayCliOptions {
  store: string
  listen: string[]
  http?: { host: string, port: number }
  json: boolean
  uploadSlots: number
  uploadLimit?: number
  busyThreshold: number
  /** false with --no-busy. */
  busy: boolean
  createStore: boolean
  stallTimeout: number
  frameTimeout: number
  maxStreamsPerPeer: number
  maxStreamsPerNetwork: number
  maxQueuedPerPeer: number
  maxQueuedPerNetwork: number
  banAfter: number
  banTime: number
  providerRecordsPerPeer: number
  providerRecordsPerNetwork: number
  /** false with --no-local-network-exemption. */
  localNetworkExemption: boolean
}

function parsePositive (text: string): number {
  const n = parseNonNegativeInt(text)
  if (n < 1) throw new InvalidArgumentError(`must be at least 1: ${text}`)
  return n
}

/** `swarmcdn seed`: serve a content store over libp2p until interrupted. */
export function registerSeed (program: Command): void {
  const cmd = program.command('seed')
    .description('Run an origin seeder: serve every item in a content store over libp2p until SIGINT/SIGTERM.')
    .requiredOption('--store <dir>', 'the content store directory (from swarmcdn publish); must exist unless --create-store')
    .option('--create-store', 'create the store directory if it does not exist (and serve nothing until items are published into it)', false)
    .option('--listen <multiaddr>', 'listen address (repeatable)', parseListenMultiaddr, [] as string[])
    .option('--http <host:port>', 'also serve the store over plain HTTP (web seed: /c/ID, /c/ID/NAME, /c/ID/manifest with byte ranges); port 0 picks one', parseHostPort)
    .option('--upload-slots <n>', 'requesters of busy items served at once (plus 1 optimistic); the rest are choked and told which peers hold the item', parsePositive, DEFAULT_ORIGIN_UPLOAD_SLOTS)
    .option('--upload-limit <bytesPerSec>', 'total upload rate limit in bytes/s over libp2p, units allowed (e.g. 50MiB) (default: unlimited)', parseByteSize)
    .option('--busy-threshold <n>', 'requesters of one item at once from which it is busy: below, everyone is served at full speed (long tail); from there, upload slots, piece spreading and "busy, try these peers"', parsePositive, DEFAULT_ORIGIN_BUSY_THRESHOLD_REQUESTERS)
    .option('--no-busy', 'never go busy: serve every requester of every item (within --upload-limit)')
    .option('--json', 'print one JSON object per line', false)
    // Limits that protect the publisher from hostile peers and clients (README "Protecting a seeder").
    .option('--stall-timeout <ms>', 'a requester that reads nothing of a piece for this long loses its stream and slot, is choked for 60 s and counts as an offender; one that asks for nothing this long gives its slot to one that asks', parsePositive, DEFAULT_STALL_TIMEOUT_MS)
    .option('--frame-timeout <ms>', 'a piece-exchange frame must arrive whole this long after its first byte (trickled frames are cut; other protocols use 10 s)', parsePositive, DEFAULT_FRAME_TIMEOUT_MS)
    .option('--max-streams-per-peer <n>', 'piece streams one peer may have open at once', parsePositive, DEFAULT_MAX_STREAMS_PER_PEER)
    .option('--max-streams-per-network <n>', 'piece streams one network (IPv4 /24, IPv6 /48) may have open at once', parsePositive, DEFAULT_MAX_STREAMS_PER_NETWORK)
    .option('--max-queued-per-peer <n>', 'piece requests one peer may have queued at once', parsePositive, DEFAULT_MAX_QUEUED_REQUESTS_PER_PEER)
    .option('--max-queued-per-network <n>', 'piece requests one network may have queued at once', parsePositive, DEFAULT_MAX_QUEUED_REQUESTS_PER_NETWORK)
    .option('--ban-after <n>', 'offenses (bad or trickled frames, protocol violations, stalled streams) within 10 min that get a peer disconnected and refused', parsePositive, DEFAULT_MAX_OFFENSES)
    .option('--ban-time <ms>', 'how long a banned peer is refused', parsePositive, DEFAULT_BAN_MS)
    .option('--provider-records-per-peer <n>', 'DHT provider records ("peer P has item X") one peer identity may store here; bounds the memory a flood of records takes', parsePositive, DEFAULT_MAX_RECORDS_PER_PROVIDER)
    .option('--provider-records-per-network <n>', 'DHT provider records the peers of one network (IPv4 /24, IPv6 /48) may store here together (peer ids are free, networks are not)', parsePositive, DEFAULT_MAX_RECORDS_PER_NETWORK)
    .option('--no-local-network-exemption', 'count loopback and private source addresses as networks in the provider-record quotas (by default they are exempt, so a LAN or a one-machine setup is not one network)')
  addHttpLimitOptions(cmd, 'http-', 'web seed', WEBSEED_DEFAULTS)
  addMetricsOption(cmd)
  addRelayOptions(cmd)
  addIdentityOption(cmd)
  addFleetOption(cmd, 'serve it, announce only the items this seeder owns, take items the publisher offers; re-read on SIGHUP and when the file changes (older or foreign records are refused)')
  addAltoOptions(cmd)
  addAsUploadLimitOption(cmd)
  addOverlayOptions(cmd)
    .addHelpText('after', '\nHostile peers and clients: the stall, frame, stream, queue and ban limits above keep\npeers that do not read or send garbage from taking the upload slots and memory;\nthe --provider-* limits bound the DHT records that cheap identities can make it keep;\nthe --http-* limits keep slowloris clients from taking the web seed\'s connections.\nMemory one hostile peer can hold: --max-streams-per-peer pieces, for --stall-timeout.\n\nExample:\n  $ swarmcdn seed --store ./store --listen /ip4/0.0.0.0/tcp/4001 --http 0.0.0.0:8080\n  listening on /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW...\n  web seed on http://0.0.0.0:8080/c/CONTENT_ID\n')
    .action(async (opts: SeedOptions) => {
      const fleet = await fleetOf(opts)
      const alto = await altoOf(opts)
      const table = reloadingResolver(opts.prefixTable, opts.json)
      const stopAltoWatch = reloadingAlto(opts, alto, opts.json)
      const seeder = await startOriginSeeder({
        alto,
        asUploadLimits: opts.asUploadLimit,
        fleet,
        asnResolver: table.resolver,
        watchStore: true,
        onStoreChange: change => { printStoreChange(change, opts.json) },
        privateKey: await identityOf(opts),
        storeDir: opts.store,
        createStore: opts.createStore,
        listenMultiaddrs: opts.listen.length > 0 ? opts.listen : ['/ip4/127.0.0.1/tcp/0'],
        bootstrap: await bootstrapOf(opts),
        proximity: opts.proximity,
        publicIp: opts.publicIp,
        http: opts.http,
        metrics: opts.metrics,
        relay: relayInitOf(opts),
        httpLimits: httpLimitsOf(opts, 'http-'),
        xfer: {
          stallTimeoutMs: opts.stallTimeout,
          frameTimeoutMs: opts.frameTimeout,
          quotas: {
            maxStreamsPerPeer: opts.maxStreamsPerPeer,
            maxStreamsPerNetwork: opts.maxStreamsPerNetwork,
            maxQueuedRequestsPerPeer: opts.maxQueuedPerPeer,
            maxQueuedRequestsPerNetwork: opts.maxQueuedPerNetwork
          }
        },
        offenders: { maxOffenses: opts.banAfter, banMs: opts.banTime },
        overlay: {
          providerAdmission: { exemptLocalNetworks: opts.localNetworkExemption },
          dht: { providerStore: { maxRecordsPerProvider: opts.providerRecordsPerPeer, maxRecordsPerNetwork: opts.providerRecordsPerNetwork } }
        },
        upload: {
          regularSlots: opts.uploadSlots,
          uploadBytesPerSec: opts.uploadLimit,
          busyThresholdRequesters: opts.busy ? opts.busyThreshold : false,
          // One knob for "holds a slot and does nothing with it": not reading, or not asking.
          idleSlotMs: opts.stallTimeout
        }
      })
      // Listen for the stop signal before saying we listen: whoever reads that line may signal at once.
      const stopRequested = new Promise<void>(resolve => {
        process.once('SIGINT', resolve)
        process.once('SIGTERM', resolve)
      })
      printOverlayEvents(seeder.overlay, opts.json)
      // A damaged item is not served; the others are.
      for (const s of seeder.skipped) {
        if (opts.json) process.stdout.write(JSON.stringify({ event: 'skipped', entry: s.entry, reason: s.reason }) + '\n')
        else process.stderr.write(`swarmcdn: skipped store item ${s.entry}: ${s.reason}\n`)
      }
      const seederFleet = seeder.fleet
      const stopFleetWatch = opts.fleet != null && seederFleet != null ? watchFleetFile(opts.fleet, seederFleet, opts.json) : undefined
      if (seederFleet != null) {
        const m = seederFleet.membership
        const owned = seeder.contentIds.filter(id => m.owns(id)).length
        if (opts.json) process.stdout.write(JSON.stringify({ event: 'fleet', sequence: m.record.sequence, listed: m.listed, owned, notOwned: seeder.contentIds.length - owned }) + '\n')
        else process.stdout.write(`fleet record ${m.record.sequence}: ${m.listed ? '' : 'NOT LISTED in it; '}owns ${owned} of ${seeder.contentIds.length} item(s) held\n`)
      }
      if (opts.json) {
        process.stdout.write(JSON.stringify({ event: 'listening', peerId: seeder.peerId, multiaddrs: seeder.multiaddrs, http: seeder.httpUrl, metrics: seeder.metricsUrl, items: seeder.contentIds.length }) + '\n')
      } else {
        process.stdout.write(`serving ${seeder.contentIds.length} item(s) as ${seeder.peerId}\n`)
        for (const a of seeder.multiaddrs) process.stdout.write(`listening on ${a}\n`)
        if (seeder.httpUrl != null) process.stdout.write(`web seed on ${seeder.httpUrl}/c/CONTENT_ID\n`)
        if (seeder.metricsUrl != null) process.stdout.write(`${metricsLine(seeder.metricsUrl)}\n`)
      }
      await stopRequested
      stopFleetWatch?.()
      table.stop()
      stopAltoWatch()
      await seeder.stop()
      if (opts.json) process.stdout.write(JSON.stringify({ event: 'stopped' }) + '\n')
      else process.stdout.write('stopped\n')
    })
}
