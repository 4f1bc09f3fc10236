import { expect } from 'chai'
import { seededRandom } from '../../helpers/core-contacts.js'
import { UploadSlots, type UploadRequester, type UploadSlotsInit } from '../../../src/core/swarm/upload-slots.js'
import { ReferenceUploadSlots } from './upload-slots-reference.js'

/** One random scenario: crowds that come and go, with ties in every sort key, fed to both choosers. */
function scenario (seed: number, init: UploadSlotsInit, maxCrowd: number, steps: number): void {
  const rnd = seededRandom(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]
  const withRandom = init.random !== undefined
  const fast = new UploadSlots({ ...init, random: withRandom ? seededRandom(seed + 1) : undefined })
  const reference = new ReferenceUploadSlots({ ...init, random: withRandom ? seededRandom(seed + 1) : undefined })
  const present = new Map<string, UploadRequester>()
  let nextId = 0
  let nowMs = 0
  const groups = init.groupPreempts === false ? [undefined] : [undefined, 'g1', 'g2', 'g3']
  for (let step = 0; step < steps; step++) {
    nowMs += pick([0, 1, 100, 1_000, 5_000])
    const joins = Math.floor(rnd() * 4)
    for (let j = 0; j < joins && present.size < maxCrowd; j++) {
      const id = `r${nextId++}`
      present.set(id, { id, rank: 0, reciprocationBytesPerSec: 0, near: rnd() < 0.3, group: pick(groups) })
    }
    if (present.size > 0 && rnd() < 0.4) present.delete(pick([...present.keys()]))
    // Ranks and reciprocation move between updates, with ties.
    const requesters = [...present.values()].map(r => ({ ...r, rank: Math.floor(rnd() * 5), reciprocationBytesPerSec: pick([0, 0, 0, 1_000, 5_000]) }))
    const got = fast.update(nowMs, requesters)
    const want = reference.update(nowMs, requesters)
    const where = `seed ${seed} step ${step} (${requesters.length} requesters, ${JSON.stringify({ ...init, random: withRandom })})`
    expect(got, where).to.deep.equal(want)
    expect(fast.unchoked(), where).to.deep.equal(reference.unchoked())
    expect(fast.nextDeadlineMs(), where).to.equal(reference.nextDeadlineMs())
  }
}

describe('core/swarm/upload-slots: the head of the order is enough', function () {
  // Thousands of random steps through two implementations: seconds on a loaded machine.
  this.timeout(60_000)
  it('decides exactly as sorting every requester on every update, over random crowds of up to 120', () => {
    const inits: UploadSlotsInit[] = [
      {},
      { groupPreempts: false },
      { groupPreempts: false, nearFirst: false },
      { groupPreempts: false, nearPreempts: false },
      { regularSlots: 1, optimisticSlots: 0, groupPreempts: false },
      { regularSlots: 2, optimisticSlots: 2, groupPreempts: false, rechokeIntervalMs: 2_000, optimisticIntervalMs: 3_000 },
      { regularSlots: 4, optimisticSlots: 1, random: Math.random },
      { regularSlots: Infinity, groupPreempts: false }
    ]
    let seed = 1
    for (const init of inits) for (let i = 0; i < 6; i++) scenario(seed++, init, i % 2 === 0 ? 120 : 20, 300)
  })
})
