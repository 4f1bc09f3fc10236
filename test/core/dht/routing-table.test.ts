import { expect } from 'chai'
import { RoutingTable } from '../../../src/core/dht/routing-table.js'
import type { Contact } from '../../../src/core/dht/contact.js'
import { prefixRegionOf } from '../../../src/core/dht/contact.js'
import { compareDistance } from '../../../src/core/ids.js'
import { makeContact } from '../../helpers/core-contacts.js'

function idWith (bytes: Record<number, number>): Uint8Array {
  const id = new Uint8Array(32)
  for (const [i, v] of Object.entries(bytes)) id[Number(i)] = v
  return id
}

function contactWithId (id: Uint8Array, name: string, ip = '10.0.0.1'): Contact {
  return { id, peerId: name, addrs: [`/ip4/${ip}/tcp/1`] }
}

describe('core/dht/routing-table', () => {
  it('orders closest contacts exactly when they differ only past bit 53', () => {
    const local = idWith({ 0: 0x80 })
    const t = new RoutingTable({ localId: local })
    // Same first 7 bytes: k-bucket's numeric distance cannot tell these apart.
    const far = contactWithId(idWith({ 20: 2 }), 'far')
    const near = contactWithId(idWith({ 20: 1 }), 'near')
    const mid = contactWithId(idWith({ 31: 0xff, 20: 1 }), 'mid')
    for (const c of [far, mid, near]) t.addAuthenticated(c, 0)
    expect(t.closest(new Uint8Array(32), 3).map(c => c.peerId)).to.deep.equal(['near', 'mid', 'far'])
  })

  it('returns the same n closest as a brute-force exact sort', () => {
    const local = makeContact('local').id
    const t = new RoutingTable({ localId: local })
    const all: Contact[] = []
    for (let i = 0; i < 500; i++) { const c = makeContact(`n${i}`); all.push(c); t.addAuthenticated(c, 0) }
    const stored = t.toArray()
    const target = makeContact('target').id
    const want = stored.sort((a, b) => compareDistance(target, a.id, b.id)).slice(0, 20).map(c => c.peerId)
    expect(t.closest(target, 20).map(c => c.peerId)).to.deep.equal(want)
  })

  it('keeps a live contact\'s addresses when its id is re-announced', () => {
    const t = new RoutingTable({ localId: makeContact('local').id })
    const a = makeContact('a', '10.0.0.1')
    t.addAuthenticated(a, 0)
    const r = t.addAuthenticated({ ...a, addrs: ['/ip4/6.6.6.6/tcp/1'] }, 10)
    expect(r.status).to.equal('updated')
    expect(t.get(a.id)?.addrs).to.deep.equal(['/ip4/10.0.0.1/tcp/4001'])
    t.remove(a.id)
    t.addAuthenticated({ ...a, addrs: ['/ip4/6.6.6.6/tcp/1'] }, 20)
    expect(t.get(a.id)?.addrs).to.deep.equal(['/ip4/6.6.6.6/tcp/1'])
  })

  it('caps one /16 per bucket and per table, but exempts private and loopback addresses', () => {
    const t = new RoutingTable({ localId: makeContact('local').id, kBucketSize: 100, maxPerRegionPerBucket: 100, maxPerRegionInTable: 3 })
    const statuses = Array.from({ length: 40 }, (_, i) => t.addAuthenticated(makeContact(`p${i}`, `8.8.${i}.1`), 0).status)
    expect(t.regionCount('v4:8.8')).to.equal(3)
    expect(statuses.filter(s => s === 'rejected-region')).to.have.length(37)
    for (let i = 0; i < 30; i++) t.addAuthenticated(makeContact(`l${i}`, `127.0.0.${i + 1}`), 0)
    for (let i = 0; i < 30; i++) t.addAuthenticated(makeContact(`r${i}`, `192.168.1.${i + 1}`), 0)
    expect(t.size).to.equal(63)
  })

  it('caps per bucket before the table cap', () => {
    const local = idWith({ 0: 0xff })
    const t = new RoutingTable({ localId: local, maxPerRegionPerBucket: 2, maxPerRegionInTable: 100 })
    // All these ids start with bit 0 while local starts with 1: they share the far bucket.
    const got = Array.from({ length: 5 }, (_, i) => t.addAuthenticated(contactWithId(idWith({ 0: i + 1 }), `b${i}`, `9.9.${i}.1`), 0).status)
    expect(got).to.deep.equal(['added', 'added', 'rejected-region', 'rejected-region', 'rejected-region'])
  })

  it('pings the least recently seen when a bucket is full and evicts only on ping failure', () => {
    const local = idWith({ 0: 0xff })
    const t = new RoutingTable({ localId: local, kBucketSize: 4, pingCount: 1 })
    const far = (i: number): Contact => contactWithId(idWith({ 0: 0x01, 1: i }), `f${i}`)
    for (let i = 0; i < 4; i++) expect(t.addAuthenticated(far(i), i).status).to.equal('added')
    const r = t.addAuthenticated(far(9), 10)
    expect(r.status).to.equal('ping')
    if (r.status !== 'ping') return
    expect(r.ping.map(c => c.peerId)).to.deep.equal(['f0'])
    t.pingAnswered(r.ping[0].id, 11)
    expect(t.get(far(9).id)).to.equal(undefined)
    expect(t.get(far(0).id)).to.not.equal(undefined)
    const r2 = t.addAuthenticated(far(9), 12)
    if (r2.status !== 'ping') throw new Error('expected ping')
    expect(r2.ping[0].peerId).to.equal('f1') // f0 was refreshed to the tail
    t.pingFailed(r2.ping[0].id, 13)
    expect(t.get(far(1).id)).to.equal(undefined)
    expect(t.get(far(9).id)?.peerId).to.equal('f9')
  })

  it('replaces a disconnected contact of a full bucket without a ping, and leaves it out of connected-only closest', () => {
    const local = idWith({ 0: 0xff })
    const t = new RoutingTable({ localId: local, kBucketSize: 4 })
    const far = (i: number): Contact => contactWithId(idWith({ 0: 0x01, 1: i }), `f${i}`)
    for (let i = 0; i < 4; i++) t.addAuthenticated(far(i), i)
    expect(t.markDisconnected(far(2).id)).to.equal(true)
    expect(t.markDisconnected(far(7).id)).to.equal(false)
    expect(t.closest(far(2).id, 4).map(c => c.peerId)).to.include('f2')
    expect(t.closest(far(2).id, 4, undefined, true).map(c => c.peerId)).to.deep.equal(['f3', 'f0', 'f1'])
    expect(t.addAuthenticated(far(9), 10).status).to.equal('added')
    expect(t.get(far(2).id)).to.equal(undefined)
    // Seen again before that: no longer disconnected, so the next candidate pings instead.
    t.markDisconnected(far(3).id)
    t.touch(far(3).id, 11)
    expect(t.isDisconnected(far(3).id)).to.equal(false)
    expect(t.addAuthenticated(far(8), 12).status).to.equal('ping')
  })

  it('labels IPv4 /16 and IPv6 /32 regions and exempts local ranges', () => {
    expect(prefixRegionOf(makeContact('a', '8.8.4.4'))).to.equal('v4:8.8')
    expect(prefixRegionOf(makeContact('a', '172.20.1.1'))).to.equal(null)
    expect(prefixRegionOf({ ...makeContact('a'), addrs: ['/ip6/2001:db8::1/tcp/1'] })).to.equal('v6:2001:db8')
    expect(prefixRegionOf({ ...makeContact('a'), addrs: ['/ip6/::1/tcp/1'] })).to.equal(null)
    expect(prefixRegionOf({ ...makeContact('a'), addrs: ['/ip6/fd00::5/tcp/1'] })).to.equal(null)
  })
})
