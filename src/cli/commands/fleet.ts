import type { Command } from 'commander'
import { InvalidArgumentError } from 'commander'
import { writeFile } from 'node:fs/promises'
import { multiaddr } from '@multiformats/multiaddr'
import { readPublisherKey } from '../../client/publisher-key-file.js'
import { readFleetFile, FleetFileError } from '../../client/fleet-origins.js'
import { buildFleetRecord, compareFleetRecords, fleetLookupId, type FleetRecord, type FleetSeeder } from '../../core/fleet/fleet-record.js'
import { DEFAULT_FLEET_REPLICATION, planFleetChange } from '../../core/fleet/rendezvous.js'
import { ContentStore } from '../../store/content-store.js'
import { copyToFleet } from '../../../seeders/fleet-publish.js'
import { parseNonNegativeInt } from '../parse-options.js'

/** A --seeder value: a multiaddr ending in /p2p/PEER_ID; several for one peer id merge. */
function parseSeeder (text: string, previous: FleetSeeder[] | undefined): FleetSeeder[] {
  let peerId: string | undefined
  let addr = ''
  try {
    const ma = multiaddr(text)
    peerId = ma.getComponents().findLast(c => c.name === 'p2p')?.value
    addr = text.slice(0, text.lastIndexOf('/p2p/'))
  } catch {}
  if (peerId == null || addr === '') throw new InvalidArgumentError(`not a seeder address ending in /p2p/PEER_ID: ${text}`)
  const list = [...(previous ?? [])]
  const known = list.find(s => s.peerId === peerId)
  if (known != null) known.multiaddrs.push(addr); else list.push({ peerId, multiaddrs: [addr] })
  return list
}

function parsePositive (text: string): number {
  const n = parseNonNegativeInt(text)
  if (n < 1) throw new InvalidArgumentError(`must be at least 1: ${text}`)
  return n
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value]

function short (peerId: string): string {
  return peerId.length > 16 ? `${peerId.slice(0, 8)}…${peerId.slice(-6)}` : peerId
}

function describe (r: FleetRecord): string[] {
  return [
    `fleet record ${r.sequence} of publisher ${Buffer.from(r.publisherKey).toString('hex')}`,
    `replication ${r.replication}, ${r.seeders.length} seeder(s), overlay lookup id ${fleetLookupId(r.publisherKey)}`,
    ...r.seeders.map(s => `  ${s.peerId} ${s.multiaddrs.join(' ')}`)
  ]
}

interface SignOptions { key: string, sequence: number, seeder: FleetSeeder[], replication: number, out: string, json: boolean }
interface PlanOptions { fleet: string, store: string, add?: FleetSeeder[], remove?: string[], to?: string, json: boolean }
interface PushOptions { fleet: string, store: string, json: boolean }

/** `swarmcdn fleet`: sign, show and plan a publisher's fleet of origin seeders, and push a store to it. */
export function registerFleet (program: Command): void {
  const fleet = program.command('fleet')
    .description('Manage a publisher\'s fleet of origin seeders: sign a fleet record, show one, plan what moves when seeders join or leave, push a store to the owners.')
    .addHelpText('after', '\nExample:\n  $ swarmcdn fleet sign --key publisher.key --sequence 2 --seeder /ip4/203.0.113.7/tcp/4001/p2p/12D3KooW... --seeder /ip4/198.51.100.9/tcp/4001/p2p/12D3KooX... --out fleet.json\n  $ swarmcdn fleet plan --fleet fleet.json --store ./master --add /ip4/192.0.2.4/tcp/4001/p2p/12D3KooY...\n')

  fleet.command('sign')
    .description('Sign a fleet record with the publisher key. The sequence must grow: an existing --out file with the same or a higher sequence is refused.')
    .requiredOption('--key <file>', 'publisher key (the one that signs the manifests)')
    .requiredOption('--sequence <n>', 'the record\'s sequence number; higher than any record before', parseNonNegativeInt)
    .requiredOption('--seeder <multiaddr>', 'a seeder, as a multiaddr ending in /p2p/PEER_ID (repeatable; several addresses of one peer id merge)', parseSeeder)
    .option('--replication <n>', 'seeders that hold each item', parsePositive, DEFAULT_FLEET_REPLICATION)
    .requiredOption('--out <file>', 'where to write the signed record')
    .option('--json', 'print one JSON object', false)
    .action(async (opts: SignOptions) => {
      const key = await readPublisherKey(opts.key)
      const record = buildFleetRecord({ sequence: opts.sequence, seeders: opts.seeder, replication: opts.replication }, key)
      const previous = await readFleetFile(opts.out).catch((err: unknown) => {
        if (err instanceof FleetFileError && /does not exist/.test(err.message)) return undefined
        throw err
      })
      // The order of records is what seeders and clients enforce; refusing here catches the mistake before it ships.
      if (previous != null && compareFleetRecords(previous, record) !== 'newer') throw new FleetFileError(`${opts.out} holds record ${previous.sequence} with the same contents; nothing to do`)
      await writeFile(opts.out, record.signedBytes)
      if (opts.json) process.stdout.write(JSON.stringify({ event: 'signed', sequence: record.sequence, replication: record.replication, seeders: record.seeders.length, out: opts.out }) + '\n')
      else process.stdout.write(describe(record).join('\n') + `\nwrote ${opts.out}\n`)
    })

  fleet.command('show')
    .description('Verify a signed fleet record and print it.')
    .argument('<file>', 'the signed fleet record')
    .option('--json', 'print one JSON object', false)
    .action(async (file: string, opts: { json: boolean }) => {
      const r = await readFleetFile(file)
      if (opts.json) process.stdout.write(JSON.stringify({ sequence: r.sequence, replication: r.replication, publisherKey: Buffer.from(r.publisherKey).toString('hex'), lookupId: fleetLookupId(r.publisherKey), seeders: r.seeders }) + '\n')
      else process.stdout.write(describe(r).join('\n') + '\n')
    })

  fleet.command('plan')
    .description('Print which items of a store would move if seeders were added or removed (only the items that gain or lose an owner).')
    .requiredOption('--fleet <file>', 'the current signed fleet record')
    .requiredOption('--store <dir>', 'the publisher\'s store (every item of the catalog)')
    .option('--add <multiaddr>', 'a seeder to add, ending in /p2p/PEER_ID (repeatable)', parseSeeder)
    .option('--remove <peer-id>', 'a seeder to remove (repeatable)', collect)
    .option('--to <file>', 'compare with this signed record instead of --add/--remove')
    .option('--json', 'print one JSON object per moving item, then a summary', false)
    .action(async (opts: PlanOptions) => {
      const before = await readFleetFile(opts.fleet)
      const beforeIds = before.seeders.map(s => s.peerId)
      let afterIds: string[]
      let replication = before.replication
      if (opts.to != null) {
        const after = await readFleetFile(opts.to, before.publisherKey)
        afterIds = after.seeders.map(s => s.peerId)
        replication = after.replication
      } else {
        for (const id of opts.remove ?? []) if (!beforeIds.includes(id)) throw new InvalidArgumentError(`--remove ${id}: not a seeder of fleet record ${before.sequence}`)
        afterIds = [...beforeIds.filter(id => !(opts.remove ?? []).includes(id)), ...(opts.add ?? []).map(s => s.peerId).filter(id => !beforeIds.includes(id))]
      }
      if (afterIds.length === 0) throw new InvalidArgumentError('the new fleet would have no seeder')
      const store = await ContentStore.open(opts.store, { create: false })
      const items = store.list().sort()
      await store.close()
      const moves = planFleetChange(items, beforeIds, afterIds, before.replication, replication)
      const gains = new Map<string, number>()
      const losses = new Map<string, number>()
      for (const m of moves) {
        for (const p of m.gains) gains.set(p, (gains.get(p) ?? 0) + 1)
        for (const p of m.losses) losses.set(p, (losses.get(p) ?? 0) + 1)
      }
      if (opts.json) {
        for (const m of moves) process.stdout.write(JSON.stringify({ event: 'move', ...m }) + '\n')
        process.stdout.write(JSON.stringify({ event: 'plan', items: items.length, moving: moves.length, gains: Object.fromEntries(gains), losses: Object.fromEntries(losses) }) + '\n')
        return
      }
      process.stdout.write(`${moves.length} of ${items.length} item(s) move (replication ${replication}, ${beforeIds.length} → ${afterIds.length} seeders)\n`)
      for (const m of moves) process.stdout.write(`  ${m.contentId}${m.gains.map(p => ` +${short(p)}`).join('')}${m.losses.map(p => ` -${short(p)}`).join('')}\n`)
      for (const p of new Set([...gains.keys(), ...losses.keys()])) process.stdout.write(`${p}: gains ${gains.get(p) ?? 0}, loses ${losses.get(p) ?? 0}\n`)
    })

  fleet.command('push')
    .description('Offer every item of a store to its owners under a fleet record; each owner fetches what it owns and lacks (run after signing a new record, before seeders load it).')
    .requiredOption('--fleet <file>', 'the signed fleet record')
    .requiredOption('--store <dir>', 'the publisher\'s store')
    .option('--json', 'print one JSON object per (item, owner)', false)
    .action(async (opts: PushOptions) => {
      const record = await readFleetFile(opts.fleet)
      const store = await ContentStore.open(opts.store, { create: false })
      try {
        const results = await copyToFleet(store, store.list(), record)
        printCopyResults(results, opts.json)
      } finally {
        await store.close()
      }
    })
}

/** Prints copyToFleet's results (shared with `publish --fleet`); sets a failing exit code when an owner did not take an item. */
export function printCopyResults (results: Array<{ contentId: string, peerId: string, outcome: string, reason?: string }>, json: boolean): void {
  for (const r of results) {
    if (json) process.stdout.write(JSON.stringify({ event: 'fleet-copy', ...r }) + '\n')
    // What an owner already held is the common case of a push: only changes and faults get a line.
    else if (r.outcome !== 'held') process.stderr.write(`${r.outcome} ${r.contentId} at ${r.peerId}${r.reason != null ? `: ${r.reason}` : ''}\n`)
  }
  if (!json) {
    const count = (o: string): number => results.filter(r => r.outcome === o).length
    process.stderr.write(`${results.length} copies: ${count('fetched')} fetched, ${count('held')} already held, ${count('refused')} refused, ${count('failed')} failed\n`)
  }
  if (results.some(r => r.outcome === 'refused' || r.outcome === 'failed')) process.exitCode = 1
}
