/**
 * `swarmcdn status --peer MULTIADDR`: asks a running peer or seeder (over
 * `/swarmcdn/status/1.0.0`) for its role, attached supernodes, routing
 * table size, items held, bytes up and down by source kind, and the
 * peers of each item.
 */
import type { Command } from 'commander'
import { multiaddr } from '@multiformats/multiaddr'
import { createSwarmNode } from '../../net/swarm-node.js'
import { fetchStatus } from '../../net/status-protocol.js'
import { formatLocalityBytes } from '../locality-text.js'

/** Registers the `status` command. */
export function registerStatus (program: Command): void {
  program.command('status')
    .description('Show a running peer\'s overlay status: role, attached supernodes, routing table size, items held.')
    .requiredOption('--peer <multiaddr>', 'the peer, ending in /p2p/PEER_ID')
    .option('--json', 'print the raw JSON document', false)
    .addHelpText('after', `
Example:
  $ swarmcdn status --peer /ip4/127.2.0.2/tcp/4003/p2p/12D3KooWMBy6...
  peer             12D3KooWMBy6...
  role             leaf
  address          127.2.0.2 (AS64602)
  reachability     unknown (0 verifier network(s))
  attached to      12D3KooWSG6g...
                   12D3KooWQy1g...
  routing table    0 contacts
  leaves           0
  items held       0 announced, 0 in store
`)
    .action(async (opts: { peer: string, json: boolean }) => {
      const target = multiaddr(opts.peer)
      const node = await createSwarmNode()
      try {
        const s = await fetchStatus(node, target) as Record<string, unknown>
        if (opts.json) { process.stdout.write(JSON.stringify(s) + '\n'); return }
        const attached = (s.attached as Array<{ peerId: string }> | undefined) ?? []
        process.stdout.write([
          `peer             ${String(s.peerId)}`,
          `role             ${String(s.role)}`,
          `address          ${String(s.publicAddress ?? '-')} (AS${String(s.asn)})`,
          ...reachabilityLines(s),
          `attached to      ${attached.length === 0 ? '-' : attached.map(a => a.peerId).join('\n                 ')}`,
          `routing table    ${String(s.routingTableSize)} contacts`,
          `leaves           ${String(s.leaves)}`,
          ...(s.role !== 'leaf' && s.providerRecords !== undefined ? [`provider records ${String(s.providerRecords)}`] : []),
          `items held       ${String(s.itemsHeld)} announced, ${String(s.items)} in store`,
          ...trafficLines(s)
        ].join('\n') + '\n')
      } finally {
        await node.stop()
      }
    })
}

/** Reachability as the peer's dial-back verdicts add it up; older peers' documents have none. */
function reachabilityLines (s: Record<string, unknown>): string[] {
  const r = s.reachability as { reachability: string, confirmedAddrs: string[], verifierNetworks: number } | undefined
  if (r == null) return []
  const addrs = r.confirmedAddrs.length > 0 ? ` on ${r.confirmedAddrs.join(', ')}` : ''
  const relays = (s.relays as string[] | undefined) ?? []
  return [
    `reachability     ${r.reachability}${addrs} (${r.verifierNetworks} verifier network(s))`,
    // A leaf behind a NAT is reached through relays at its supernodes (older peers' documents have no list).
    ...(relays.length > 0 ? [`relayed by       ${relays.join('\n                 ')}`] : [])
  ]
}

function mib (bytes: unknown): string {
  return `${(Number(bytes ?? 0) / 1048576).toFixed(1)} MiB`
}

/** Traffic and per-item lines; seeders' documents have neither. */
function trafficLines (s: Record<string, unknown>): string[] {
  const t = s.traffic as Record<string, unknown> | undefined
  const items = (s.swarm as Array<Record<string, unknown>> | undefined) ?? []
  if (t == null) return []
  return [
    `downloaded       ${mib(t.downloadedFromPeersBytes)} from peers, ${mib(t.downloadedFromSeedersBytes)} from seeders`,
    `uploaded         ${mib(t.uploadedBytes)}`,
    `transit down     ${formatLocalityBytes(t.downloadedByLocality as unknown as Record<string, number> | undefined, mib)}`,
    `transit up       ${formatLocalityBytes(t.uploadedByLocality as unknown as Record<string, number> | undefined, mib)}`,
    ...items.map((i, n) => `${n === 0 ? 'items            ' : '                 '}${String(i.contentId)} ${String(i.state)}: ` +
      (i.state === 'downloading' ? `${String(i.peerSources)} peer + ${String(i.seederSources)} seeder source(s) of ${String(i.providersFound)} found, ` : '') +
      `uploading to ${String(i.uploadingTo)} peer(s), ${mib(i.uploadedBytes)} up`)
  ]
}
