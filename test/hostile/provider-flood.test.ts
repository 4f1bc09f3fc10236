/**
 * Adversarial: cheap identities flood a real origin seeder's provider store
 * over loopback. 20 peer identities dialing from one /24 (127.66.0.0/24;
 * the local-network exemption is off, as on a public address) try to store
 * 5 records each; the store keeps at most the network's quota, and an
 * honest provider from another /24 still stores its record, which a third
 * node then finds with get-providers once the honest connection has aged.
 */
import { expect } from 'chai'
import { rm } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { makeFixture, type Fixture } from '../helpers/content-fixture.js'
import { startOriginSeeder, type OriginSeeder } from '../../seeders/origin-seeder.js'
import type { SwarmNode } from '../../src/net/swarm-node.js'
import { DhtRpc } from '../../src/net/dht-rpc.js'
import { contactOfMultiaddr } from '../../src/net/overlay-contacts.js'
import type { DhtMessage } from '../../src/core/messages/dht-messages.js'
import { keyFromBytes, type Key } from '../../src/core/ids.js'
import { startAttacker } from '../helpers/hostile.js'
import { waitFor, LOOPBACK_LIMITS } from '../helpers/wait-for.js'

const IDENTITIES = 20
const RECORDS_EACH = 5
/** Test-time quotas (defaults: 10 000 per network, 5 000 per identity), so that 100 attempts reach them. */
const PER_NETWORK = 40
const MIN_AGE_MS = 1000

describe('hostile: cheap identities cannot fill an origin\'s provider store', function () {
  this.timeout(60_000)
  let fx: Fixture
  let origin: OriginSeeder | undefined
  const nodes: SwarmNode[] = []
  const rpcs: DhtRpc[] = []
  before(async () => { fx = await makeFixture(64 * 1024, 16 * 1024) })
  afterEach(async () => {
    for (const r of rpcs.splice(0)) await r.stop()
    for (const n of nodes.splice(0)) { try { await n.stop() } catch {} }
    await origin?.stop(); origin = undefined
  })
  after(async () => {
    await fx.store.close()
    await rm(fx.dir, { recursive: true, force: true })
  })

  /** A node dialing from `ip` that speaks the DHT as a client. */
  async function dhtClient (ip: string): Promise<{ node: SwarmNode, ask: (m: DhtMessage) => Promise<DhtMessage> }> {
    const node = await startAttacker(ip)
    nodes.push(node)
    const rpc = new DhtRpc(node, { onRequest: async () => undefined, onViolation: () => {} })
    rpcs.push(rpc)
    const to = contactOfMultiaddr(origin!.multiaddrs[0])
    const ask = async (message: DhtMessage): Promise<DhtMessage> =>
      (await rpc.request(to, { message, senderRole: 'supernode', senderAddrs: [] }, { timeoutMs: 10_000 })).message
    return { node, ask }
  }

  it(`caps ${IDENTITIES} identities of one /24 at the network's quota, and an honest provider's record is stored and found`, async () => {
    origin = await startOriginSeeder({
      store: fx.store,
      listenMultiaddrs: ['/ip4/127.1.0.1/tcp/0'],
      node: LOOPBACK_LIMITS,
      overlay: {
        providerAdmission: { exemptLocalNetworks: false, minConnectionAgeMs: MIN_AGE_MS },
        dht: { providerStore: { maxRecordsPerNetwork: PER_NETWORK } }
      }
    })
    const seeder = origin
    const before = seeder.overlay.status().providerRecords
    let requestId = 1
    const answers = new Map<string, number>()
    for (let i = 0; i < IDENTITIES; i++) {
      const sybil = await dhtClient(`127.66.0.${i + 1}`)
      for (let r = 0; r < RECORDS_EACH; r++) {
        const m = await sybil.ask({ type: 'add-provider', requestId: requestId++, key: keyFromBytes(randomBytes(32)) })
        const what = m.type === 'error' ? m.code : m.type
        answers.set(what, (answers.get(what) ?? 0) + 1)
      }
    }
    expect(answers.get('ack'), JSON.stringify([...answers])).to.equal(PER_NETWORK)
    expect(answers.get('too-many-keys')).to.equal(IDENTITIES * RECORDS_EACH - PER_NETWORK)
    expect(seeder.overlay.status().providerRecords - before).to.equal(PER_NETWORK)

    const honest = await dhtClient('127.3.0.1')
    const item: Key = keyFromBytes(randomBytes(32))
    expect((await honest.ask({ type: 'add-provider', requestId: requestId++, key: item })).type).to.equal('ack')
    expect(seeder.overlay.status().providerRecords - before).to.equal(PER_NETWORK + 1)
    const finder = await dhtClient('127.4.0.1')
    const honestId = honest.node.peerId.toString()
    // The honest record counts once its connection is MIN_AGE_MS old; until then it is not served.
    await waitFor('the honest record is served', async () => {
      const reply = await finder.ask({ type: 'get-providers', requestId: requestId++, key: item })
      return reply.type === 'get-providers-reply' && reply.providers.some(p => p.peerId === honestId)
    }, 15_000, 200)
  })
})
