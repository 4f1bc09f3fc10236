import { expect } from 'chai'
import { HeadMap } from '../../src/core/head-map.js'
import { seededRandom } from '../helpers/core-contacts.js'

/** What iteration gives first: the plain answer `first()` must match. */
function firstOf<V> (m: Map<unknown, V>): V | undefined {
  for (const v of m.values()) return v
  return undefined
}

describe('core/head-map', () => {
  it('gives the first value in iteration order through adds, deletes, re-adds (last-seen order) and clears', () => {
    const rnd = seededRandom(7)
    const m = new HeadMap<number, { k: number }>()
    for (let step = 0; step < 20_000; step++) {
      const k = Math.floor(rnd() * 50)
      const r = rnd()
      if (r < 0.4) m.set(k, { k })
      else if (r < 0.7) m.delete(k)
      else if (r < 0.9) { const v = m.get(k); if (v !== undefined) { m.delete(k); m.set(k, v) } } // moved to the end
      else if (r < 0.9005) m.clear()
      expect(m.first(), `step ${step}`).to.equal(firstOf(m))
    }
  })

  it('starts from the entries it is built with', () => {
    const m = new HeadMap<string, number>([['a', 1], ['b', 2]])
    expect(m.first()).to.equal(1)
    m.delete('a')
    expect(m.first()).to.equal(2)
  })
})
