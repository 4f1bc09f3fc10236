/**
 * `swarmcdn peer`: a long-lived overlay peer that serves (and announces)
 * the items of its store until SIGINT/SIGTERM.
 */
import { type Command, InvalidArgumentError, Option } from 'commander'
import { startPeer } from '../../client/peer.js'
import type { OverlayRoleSetting } from '../../net/dht-service.js'
import { addOverlayOptions, bootstrapOf, printOverlayEvents, untilSignal, type OverlayCliOptions } from '../overlay-options.js'

interface PeerOptions extends OverlayCliOptions { listen?: string[], store?: string, role: OverlayRoleSetting, json: boolean }

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value]

/** Registers the `peer` command. */
export function registerPeer (program: Command): void {
  const cmd = program.command('peer')
    .description('Run a long-lived peer: join the overlay (DHT + supernode tier) and serve the items of a store until SIGINT/SIGTERM.')
    .addOption(new Option('--listen <multiaddr>', 'listen address (repeatable; default /ip4/0.0.0.0/tcp/0)').argParser(collect))
    .option('--store <dir>', 'content store whose items are served and announced')
    .addOption(new Option('--role <role>', 'auto (promotion by policy), leaf or supernode').default('auto').argParser((v: string) => {
      if (v !== 'auto' && v !== 'leaf' && v !== 'supernode') throw new InvalidArgumentError('expected auto, leaf or supernode')
      return v
    }))
    .option('--json', 'print one JSON event per line', false)
  addOverlayOptions(cmd)
    .addHelpText('after', '\nExample:\n  $ swarmcdn peer --store ./store --bootstrap /ip4/203.0.113.7/tcp/4001/p2p/12D3KooW... --json\n  {"event":"listening","peerId":"12D3KooW...","multiaddrs":[...],"role":"leaf"}\n')
    .action(async (opts: PeerOptions) => {
      const bootstrap = await bootstrapOf(opts)
      const peer = await startPeer({
        storeDir: opts.store,
        listenMultiaddrs: opts.listen,
        bootstrap,
        publicIp: opts.publicIp,
        role: opts.role,
        prefixTablePaths: opts.prefixTable,
        proximity: opts.proximity
      })
      printOverlayEvents(peer.overlay, opts.json)
      const s = peer.status()
      if (opts.json) process.stdout.write(JSON.stringify({ event: 'listening', peerId: peer.peerId, multiaddrs: peer.multiaddrs(), role: s.role, items: s.items, bootstrap: bootstrap.length }) + '\n')
      else {
        process.stdout.write(`peer ${peer.peerId} (${s.role}), ${s.items} item(s), ${bootstrap.length} bootstrap address(es)\n`)
        for (const a of peer.multiaddrs()) process.stdout.write(`listening on ${a}\n`)
      }
      const signal = await untilSignal()
      await peer.stop()
      if (opts.json) process.stdout.write(JSON.stringify({ event: 'stopped', signal }) + '\n')
      else process.stdout.write(`stopped (${signal})\n`)
    })
}
