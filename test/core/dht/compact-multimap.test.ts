import { expect } from 'chai'
import { CompactMultimap } from '../../../src/core/dht/compact-multimap.js'
import { ProviderStore } from '../../../src/core/dht/provider-store.js'
import { keyFromBytes, type Key } from '../../../src/core/ids.js'
import { makeContact } from '../../helpers/core-contacts.js'

const keyOf = (s: string): Key => keyFromBytes(new TextEncoder().encode(s))

describe('core/dht/compact-multimap', () => {
  it('keeps values in the order added through one, two and more, and removes by identity', () => {
    const m = new CompactMultimap<{ n: number }>()
    const [a, b, c] = [{ n: 1 }, { n: 2 }, { n: 3 }]
    expect(m.values('k')).to.deep.equal([])
    m.add('k', a)
    expect(m.values('k')).to.deep.equal([a])
    expect(m.count('k')).to.equal(1)
    m.add('k', b)
    m.add('k', c)
    expect(m.values('k')).to.deep.equal([a, b, c])
    expect(m.remove('k', { n: 2 })).to.equal(false)
    expect(m.remove('k', b)).to.equal(true)
    expect(m.values('k')).to.deep.equal([a, c])
    expect(m.remove('k', a)).to.equal(true)
    expect(m.values('k')).to.deep.equal([c])
    expect(m.remove('k', a)).to.equal(false)
    expect(m.remove('k', c)).to.equal(true)
    expect(m.count('k')).to.equal(0)
    expect(m.size).to.equal(0)
    expect(m.remove('gone', c)).to.equal(false)
  })

  it('lets the caller remove values while it walks the values it was given', () => {
    const m = new CompactMultimap<{ n: number }>()
    const vs = [1, 2, 3, 4].map(n => ({ n }))
    for (const v of vs) m.add('k', v)
    const seen: number[] = []
    for (const v of m.values('k')) { seen.push(v.n); m.remove('k', v) }
    expect(seen).to.deep.equal([1, 2, 3, 4])
    expect(m.size).to.equal(0)
  })

  it('lists its keys in the order they got their first value, a key emptied and refilled last', () => {
    const m = new CompactMultimap<object>()
    const x = {}
    m.add('a', x); m.add('b', {}); m.add('c', {})
    m.remove('a', x); m.add('a', x)
    expect([...m.keys()]).to.deep.equal(['b', 'c', 'a'])
  })
})

describe('core/dht/provider-store bookkeeping', () => {
  it('removes every record of a provider across keys, keeps the others, and frees emptied keys', () => {
    const s = new ProviderStore()
    const [p, q] = [makeContact('p'), makeContact('q')]
    for (const k of ['k1', 'k2', 'k3']) s.add(0, keyOf(k), p)
    s.add(0, keyOf('k2'), q)
    expect(s.recordsOf(p.peerId)).to.equal(3)
    s.remove(p.peerId)
    expect(s.recordsOf(p.peerId)).to.equal(0)
    expect(s.size).to.equal(1)
    expect(s.keyCount).to.equal(1)
    expect(s.get(1, keyOf('k2')).map(c => c.peerId)).to.deep.equal([q.peerId])
    expect(s.get(1, keyOf('k1'))).to.deep.equal([])
  })

  it('breaks ties of equal refresh times by the order records were first stored, also after a removal', () => {
    const s = new ProviderStore()
    const cs = ['a', 'b', 'c', 'd'].map(n => makeContact(n))
    for (const c of cs) s.add(0, keyOf('k'), c)
    s.remove(cs[1].peerId, keyOf('k'))
    expect(s.get(1, keyOf('k')).map(c => c.peerId)).to.deep.equal([cs[0], cs[2], cs[3]].map(c => c.peerId))
    s.add(5, keyOf('k'), cs[2])
    expect(s.get(6, keyOf('k')).map(c => c.peerId)).to.deep.equal([cs[2], cs[0], cs[3]].map(c => c.peerId))
  })

  it('counts records per source network and frees the count when the last one expires', () => {
    const s = new ProviderStore({ recordTtlMs: 100 })
    const p = makeContact('p')
    s.add(0, keyOf('k1'), p, { network: '203.0.113.0/24', countsFromMs: 0 })
    s.add(10, keyOf('k2'), p, { network: '203.0.113.0/24', countsFromMs: 10 })
    expect(s.recordsFromNetwork('203.0.113.0/24')).to.equal(2)
    expect(s.prune(100)).to.equal(1)
    expect(s.recordsFromNetwork('203.0.113.0/24')).to.equal(1)
    expect(s.prune(110)).to.equal(1)
    expect(s.recordsFromNetwork('203.0.113.0/24')).to.equal(0)
    expect(s.size).to.equal(0)
    expect(s.recordsOf(p.peerId)).to.equal(0)
  })

  it('serves a record only from its countsFromMs, and removeUncounted drops only the ones not counting yet', () => {
    const s = new ProviderStore()
    const p = makeContact('p')
    s.add(0, keyOf('k1'), p, { network: null, countsFromMs: 0 })
    s.add(0, keyOf('k2'), p, { network: null, countsFromMs: 50 })
    expect(s.get(10, keyOf('k1'))).to.have.length(1)
    expect(s.get(10, keyOf('k2'))).to.have.length(0)
    expect(s.get(50, keyOf('k2'))).to.have.length(1)
    expect(s.removeUncounted(20, p.peerId)).to.equal(1)
    expect(s.recordsOf(p.peerId)).to.equal(1)
    expect(s.get(60, keyOf('k2'))).to.have.length(0)
  })
})
