import { expect } from 'chai'
import { UploadSlots, type UploadRequester } from '../../../src/core/swarm/upload-slots.js'
import { TokenBucket } from '../../../src/core/swarm/token-bucket.js'

const req = (id: string, rank: number, reciprocationBytesPerSec = 0): UploadRequester => ({ id, rank, reciprocationBytesPerSec })

describe('core/swarm/upload-slots', () => {
  it('unchokes the nearest requesters in regular slots plus one optimistic, and chokes the rest', () => {
    const slots = new UploadSlots({ regularSlots: 2, optimisticSlots: 1 })
    const all = [req('far', 4), req('near', 0), req('mid', 1), req('x', 2), req('y', 3)]
    const d = slots.update(0, all)
    expect(d.unchoke).to.include.members(['near', 'mid'])
    expect(d.unchoke).to.have.length(3)
    expect(d.choke).to.deep.equal([])
    expect(slots.unchoked()).to.have.length(3)
  })

  it('prefers fast reciprocators over nearness (tit-for-tat)', () => {
    const slots = new UploadSlots({ regularSlots: 1, optimisticSlots: 0 })
    slots.update(0, [req('near', 0), req('giver', 5, 1e6)])
    expect(slots.isUnchoked('giver')).to.equal(true)
    expect(slots.isUnchoked('near')).to.equal(false)
  })

  it('gives regular slots to near requesters before far reciprocators (nearFirst), and not when turned off', () => {
    const all: UploadRequester[] = [{ id: 'far-giver', rank: 2, reciprocationBytesPerSec: 1e6 }, { id: 'near', rank: 0, reciprocationBytesPerSec: 0, near: true }]
    const slots = new UploadSlots({ regularSlots: 1, optimisticSlots: 0 })
    slots.update(0, all)
    expect(slots.unchoked()).to.deep.equal(['near'])
    const tft = new UploadSlots({ regularSlots: 1, optimisticSlots: 0, nearFirst: false })
    tft.update(0, all)
    expect(tft.unchoked()).to.deep.equal(['far-giver'])
  })

  it('lets a near requester that arrives between rechokes take a far requester\'s slot at once (nearPreempts), and not when turned off', () => {
    const far = (id: string, rank: number): UploadRequester => ({ id, rank, reciprocationBytesPerSec: 0 })
    const near: UploadRequester = { id: 'near', rank: 0, reciprocationBytesPerSec: 0, near: true }
    const slots = new UploadSlots({ regularSlots: 2, optimisticSlots: 0, rechokeIntervalMs: 10_000 })
    slots.update(0, [far('f1', 1), far('f2', 2)])
    const d = slots.update(100, [far('f1', 2), far('f2', 3), near])
    expect(d).to.deep.equal({ choke: ['f2'], unchoke: ['near'] })
    const off = new UploadSlots({ regularSlots: 2, optimisticSlots: 0, rechokeIntervalMs: 10_000, nearPreempts: false })
    off.update(0, [far('f1', 1), far('f2', 2)])
    expect(off.update(100, [far('f1', 2), far('f2', 3), near])).to.deep.equal({ choke: [], unchoke: [] })
  })

  it('lets a requester of a network with no slot take one at once from a network holding two or more (groupPreempts), and not when turned off', () => {
    const of = (id: string, rank: number, group: string, near = false): UploadRequester => ({ id, rank, reciprocationBytesPerSec: 0, group, near })
    // Four streams of one network arrived first and hold every regular slot.
    const crowd = [of('a1', 0, 'A'), of('a2', 1, 'A'), of('a3', 2, 'A'), of('a4', 3, 'A')]
    const slots = new UploadSlots({ regularSlots: 4, optimisticSlots: 0, rechokeIntervalMs: 10_000 })
    slots.update(0, crowd)
    expect(slots.update(100, [...crowd, of('b', 4, 'B')])).to.deep.equal({ choke: ['a4'], unchoke: ['b'] })
    // A second newcomer of B waits: its network has a slot now.
    expect(slots.update(200, [...crowd, of('b', 4, 'B'), of('b2', 5, 'B')])).to.deep.equal({ choke: [], unchoke: [] })
    // At the rechoke every network's best comes before any network's second.
    slots.update(10_000, [...crowd, of('b', 4, 'B'), of('c', 6, 'C')])
    expect(slots.unchoked()).to.have.members(['a1', 'b', 'c', 'a2'])
    // Never a near holder's slot for a far newcomer.
    const nearSlots = new UploadSlots({ regularSlots: 2, optimisticSlots: 0, rechokeIntervalMs: 10_000 })
    nearSlots.update(0, [of('n1', 0, 'N', true), of('n2', 1, 'N', true)])
    expect(nearSlots.update(100, [of('n1', 0, 'N', true), of('n2', 1, 'N', true), of('far', 2, 'F')])).to.deep.equal({ choke: [], unchoke: [] })
    const off = new UploadSlots({ regularSlots: 4, optimisticSlots: 0, rechokeIntervalMs: 10_000, groupPreempts: false })
    off.update(0, crowd)
    expect(off.update(100, [...crowd, of('b', 4, 'B')])).to.deep.equal({ choke: [], unchoke: [] })
  })

  it('keeps regular slots until the rechoke interval, then re-ranks', () => {
    const slots = new UploadSlots({ regularSlots: 1, optimisticSlots: 0, rechokeIntervalMs: 10_000 })
    slots.update(0, [req('a', 0)])
    const between = slots.update(5_000, [req('a', 1), req('b', 0)])
    expect(between).to.deep.equal({ choke: [], unchoke: [] })
    const at = slots.update(10_000, [req('a', 1), req('b', 0)])
    expect(at).to.deep.equal({ choke: ['a'], unchoke: ['b'] })
    expect(slots.nextDeadlineMs()).to.equal(20_000)
  })

  it('fills a freed slot at once without waiting for the rechoke', () => {
    const slots = new UploadSlots({ regularSlots: 1, optimisticSlots: 0 })
    slots.update(0, [req('a', 0), req('b', 1)])
    expect(slots.isUnchoked('b')).to.equal(false)
    const d = slots.update(1, [req('b', 1)])
    expect(d.unchoke).to.deep.equal(['b'])
  })

  it('rotates the optimistic slot every 30 s to the longest-waiting choked requester', () => {
    const slots = new UploadSlots({ regularSlots: 1, optimisticSlots: 1, rechokeIntervalMs: 1e9 })
    const all = [req('r', 0), req('a', 1), req('b', 2), req('c', 3)]
    slots.update(0, all)
    const first = slots.unchoked().find(id => id !== 'r')
    expect(slots.update(29_999, all)).to.deep.equal({ choke: [], unchoke: [] })
    const d = slots.update(30_000, all)
    expect(d.choke).to.deep.equal([first])
    expect(d.unchoke).to.have.length(1)
    expect(d.unchoke[0]).to.not.equal(first)
    const seen = new Set([first, d.unchoke[0]])
    seen.add(slots.update(60_000, all).unchoke[0])
    expect(seen).to.deep.equal(new Set(['a', 'b', 'c']))
  })

  it('uses the injected random for the optimistic pick', () => {
    const slots = new UploadSlots({ regularSlots: 0, optimisticSlots: 1, random: () => 0.99 })
    slots.update(0, [req('a', 0), req('b', 1), req('c', 2)])
    expect(slots.unchoked()).to.deep.equal(['c'])
  })

  it('never chokes with Infinity slots, and forgets requesters that left', () => {
    const slots = new UploadSlots({ regularSlots: Infinity })
    const many = Array.from({ length: 50 }, (_, i) => req(`p${i}`, i))
    expect(slots.update(0, many).unchoke).to.have.length(50)
    expect(slots.update(1, many.slice(0, 10)).choke).to.have.length(40)
  })

  it('rejects invalid slot counts', () => {
    expect(() => new UploadSlots({ regularSlots: -1 })).to.throw(RangeError)
    expect(() => new UploadSlots({ rechokeIntervalMs: 0 })).to.throw(RangeError)
  })
})

describe('core/swarm/token-bucket', () => {
  it('lets a burst through, then makes senders wait at the configured rate', () => {
    const b = new TokenBucket(1000, 1000)
    expect(b.take(0, 1000)).to.equal(0)
    expect(b.take(0, 500)).to.equal(500)
    expect(b.take(500, 0)).to.equal(0)
    expect(b.available(1500)).to.equal(1000)
  })

  it('lets one send larger than the burst go out, paid back as debt', () => {
    const b = new TokenBucket(100, 10)
    expect(b.take(0, 210)).to.equal(2000)
    expect(b.available(2000)).to.equal(0)
  })
})
