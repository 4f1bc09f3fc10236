import { expect } from 'chai'
import { DeadlineMap } from '../../src/core/deadline-map.js'
import { seededRandom } from '../helpers/core-contacts.js'

/** The plain answer `earliestMs()` must match: a scan of every entry. */
function scanEarliest (m: Map<unknown, { deadlineMs: number }>): number | undefined {
  let e: number | undefined
  for (const v of m.values()) if (e === undefined || v.deadlineMs < e) e = v.deadlineMs
  return e
}

describe('core/deadline-map', () => {
  it('knows its earliest deadline through adds, deletes, replacements (same key, new deadline), ties and clears', () => {
    const rnd = seededRandom(11)
    const m = new DeadlineMap<number, { deadlineMs: number }>()
    let now = 0
    let rescans = 0
    for (let step = 0; step < 20_000; step++) {
      now += Math.floor(rnd() * 3)
      const k = Math.floor(rnd() * 40)
      const r = rnd()
      // Two timeouts, as a peer's requests have (ties between entries happen).
      if (r < 0.45) m.set(k, { deadlineMs: now + (rnd() < 0.5 ? 5 : 8) })
      else if (r < 0.9) m.delete(k)
      else if (r < 0.9005) m.clear()
      else {
        // Delete the earliest entry (what an answered oldest request does).
        const e = scanEarliest(m)
        for (const [key, v] of m) if (v.deadlineMs === e) { m.delete(key); rescans++; break }
      }
      expect(m.earliestMs(), `step ${step}`).to.equal(scanEarliest(m))
    }
    expect(rescans).to.be.greaterThan(100)
  })

  it('is empty-safe: no earliest deadline without entries, deleting an unknown key changes nothing', () => {
    const m = new DeadlineMap<string, { deadlineMs: number }>()
    expect(m.earliestMs()).to.equal(undefined)
    expect(m.delete('x')).to.equal(false)
    m.set('a', { deadlineMs: 10 }).set('b', { deadlineMs: 7 })
    expect(m.earliestMs()).to.equal(7)
    m.set('b', { deadlineMs: 12 })
    expect(m.earliestMs()).to.equal(10)
  })
})
