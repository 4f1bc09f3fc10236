import { expect } from 'chai'
import { AnnouncerCache } from '../../../src/core/peer/announcer-cache.js'
import { keyFromBytes, type Key } from '../../../src/core/ids.js'
import { makeContact } from '../../helpers/core-contacts.js'

const keyOf = (s: string): Key => keyFromBytes(new TextEncoder().encode(s))

describe('core/peer/announcer-cache', () => {
  it('answers within its TTL, and a set drops the entries that expired (not only the key asked for)', () => {
    const c = new AnnouncerCache({ ttlMs: 100, maxKeys: 10 })
    const a = [makeContact('a')]
    for (let i = 0; i < 5; i++) c.set(i, keyOf(`k${i}`), a)
    expect(c.get(50, keyOf('k0'))).to.equal(a)
    expect(c.size).to.equal(5)
    c.set(102, keyOf('new'), a)
    expect(c.size).to.equal(3)
    expect(c.get(102, keyOf('k2'))).to.equal(undefined)
    expect(c.get(102, keyOf('k3'))).to.equal(a)
  })

  it('keeps at most maxKeys, the oldest going first, and a key set again counts as new', () => {
    const c = new AnnouncerCache({ ttlMs: 1000, maxKeys: 2 })
    const a = [makeContact('a')]
    c.set(0, keyOf('x'), a)
    c.set(1, keyOf('y'), a)
    c.set(2, keyOf('x'), a)
    c.set(3, keyOf('z'), a)
    expect(c.get(4, keyOf('y'))).to.equal(undefined)
    expect(c.get(4, keyOf('x'))).to.equal(a)
    expect(c.get(4, keyOf('z'))).to.equal(a)
  })

  it('forgets the keys an announcer was named for', () => {
    const c = new AnnouncerCache({ ttlMs: 1000, maxKeys: 10 })
    c.set(0, keyOf('x'), [makeContact('a'), makeContact('b')])
    c.set(0, keyOf('y'), [makeContact('c')])
    c.forget(makeContact('b').peerId)
    expect(c.get(1, keyOf('x'))).to.equal(undefined)
    expect(c.size).to.equal(1)
  })
})
