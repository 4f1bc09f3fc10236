import type { Command } from 'commander'
import { InvalidArgumentError } from 'commander'
import { DEFAULT_ORIGIN_BUSY_THRESHOLD_REQUESTERS, DEFAULT_ORIGIN_UPLOAD_SLOTS, startOriginSeeder } from '../../../seeders/origin-seeder.js'
import { defaultPrefixTablePaths } from '../../client/prefix-table-files.js'
import { parseByteSize, parseHostPort, parseListenMultiaddr, parseNonNegativeInt } from '../parse-options.js'
import { addOverlayOptions, bootstrapOf, printOverlayEvents, type OverlayCliOptions } from '../overlay-options.js'

interface SeedOptions extends OverlayCliOptions {
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
  addOverlayOptions(cmd)
    .addHelpText('after', '\nExample:\n  $ swarmcdn seed --store ./store --listen /ip4/0.0.0.0/tcp/4001 --http 0.0.0.0:8080\n  listening on /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW...\n  web seed on http://0.0.0.0:8080/c/CONTENT_ID\n')
    .action(async (opts: SeedOptions) => {
      const seeder = await startOriginSeeder({
        storeDir: opts.store,
        createStore: opts.createStore,
        listenMultiaddrs: opts.listen.length > 0 ? opts.listen : ['/ip4/127.0.0.1/tcp/0'],
        bootstrap: await bootstrapOf(opts),
        prefixTablePaths: opts.prefixTable ?? defaultPrefixTablePaths(),
        proximity: opts.proximity,
        publicIp: opts.publicIp,
        http: opts.http,
        upload: {
          regularSlots: opts.uploadSlots,
          uploadBytesPerSec: opts.uploadLimit,
          busyThresholdRequesters: opts.busy ? opts.busyThreshold : false
        }
      })
      printOverlayEvents(seeder.overlay, opts.json)
      // A damaged item is not served; the others are.
      for (const s of seeder.skipped) {
        if (opts.json) process.stdout.write(JSON.stringify({ event: 'skipped', entry: s.entry, reason: s.reason }) + '\n')
        else process.stderr.write(`swarmcdn: skipped store item ${s.entry}: ${s.reason}\n`)
      }
      if (opts.json) {
        process.stdout.write(JSON.stringify({ event: 'listening', peerId: seeder.peerId, multiaddrs: seeder.multiaddrs, http: seeder.httpUrl, items: seeder.contentIds.length }) + '\n')
      } else {
        process.stdout.write(`serving ${seeder.contentIds.length} item(s) as ${seeder.peerId}\n`)
        for (const a of seeder.multiaddrs) process.stdout.write(`listening on ${a}\n`)
        if (seeder.httpUrl != null) process.stdout.write(`web seed on ${seeder.httpUrl}/c/CONTENT_ID\n`)
      }
      await new Promise<void>(resolve => {
        process.once('SIGINT', resolve)
        process.once('SIGTERM', resolve)
      })
      await seeder.stop()
      if (opts.json) process.stdout.write(JSON.stringify({ event: 'stopped' }) + '\n')
      else process.stdout.write('stopped\n')
    })
}
