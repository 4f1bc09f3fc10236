import { expect } from 'chai'
import { seededRandom } from '../../helpers/core-contacts.js'
import { UploadPolicy, originUploadPolicy, type UploadPolicyInit } from '../../../src/core/swarm/upload-policy.js'
import { ReferenceUploadPolicy } from './upload-policy-reference.js'

/**
 * One random life of an uploader: requesters of a few items come, ask,
 * are sent pieces, stall and leave, items go busy and back, time moves;
 * every call goes to both policies and every answer must match.
 */
function scenario (seed: number, init: UploadPolicyInit, steps: number, simLike = false): void {
  const rnd = seededRandom(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]
  const fast = new UploadPolicy(init)
  const reference = new ReferenceUploadPolicy(init)
  const items = ['a', 'b', 'c', 'd']
  const peers = Array.from({ length: 40 }, (_, i) => `p${i}`)
  const present = new Set<string>()
  let nowMs = 0
  for (let step = 0; step < steps; step++) {
    const where = `seed ${seed} step ${step}`
    nowMs += pick([0, 1, 50, 500, 2_000, 6_000])
    const r = rnd()
    const key = present.size > 0 ? pick([...present]) : undefined
    if (r < 0.35 || key === undefined) {
      const peerId = pick(peers)
      const item = pick(items)
      const k = `${peerId}:${item}`
      // Addresses on some runs: slot groups (networks) then apply.
      const who = { item, peerId, pieceCount: 16, near: rnd() < 0.3, remoteAddr: !simLike && seed % 2 === 0 ? `/ip4/10.${peerId.length}.${Number(peerId.slice(1)) % 5}.1/tcp/1` : undefined, reads: simLike }
      expect(fast.admit(nowMs, k, who), where).to.deep.equal(reference.admit(nowMs, k, who))
      present.add(k)
    } else if (r < 0.5) {
      expect(fast.release(nowMs, key), where).to.deep.equal(reference.release(nowMs, key))
      present.delete(key)
    } else if (r < 0.53) {
      const peerId = key.slice(0, key.indexOf(':'))
      expect(fast.releasePeer(nowMs, peerId), where).to.deep.equal(reference.releasePeer(nowMs, peerId))
      for (const k of [...present]) if (k.startsWith(`${peerId}:`)) present.delete(k)
    } else if (r < 0.7) {
      expect(fast.requested(nowMs, key), where).to.deep.equal(reference.requested(nowMs, key))
      const index = Math.floor(rnd() * 16)
      const ok = fast.admitPiece(nowMs, key, index)
      expect(ok, where).to.equal(reference.admitPiece(nowMs, key, index))
      if (ok && rnd() < 0.8) { fast.sent(nowMs, key, index); reference.sent(nowMs, key, index) } else if (ok) { fast.unqueued(key, [index]); reference.unqueued(key, [index]) }
    } else if (r < 0.8) {
      // A request without a piece admitted (choked, or the queue is elsewhere): after a piece went out it confirms reading.
      expect(fast.requested(nowMs, key), where).to.deep.equal(reference.requested(nowMs, key))
    } else if (r < 0.82) {
      expect(fast.stalled(nowMs, key), where).to.deep.equal(reference.stalled(nowMs, key))
    } else if (r < 0.87 && !simLike) {
      const peerId = pick(peers)
      fast.recordReceived(nowMs, peerId, 1000); reference.recordReceived(nowMs, peerId, 1000)
    } else {
      expect(fast.timer(nowMs), where).to.deep.equal(reference.timer(nowMs))
    }
    expect(fast.nextDeadlineMs(nowMs), where).to.equal(reference.nextDeadlineMs(nowMs))
    expect(fast.slotUtilization(), where).to.equal(reference.slotUtilization())
    for (const k of present) expect(fast.isChoked(k), `${where} ${k}`).to.equal(reference.isChoked(k))
    for (const item of items) expect(fast.chokedOf(item), where).to.deep.equal(reference.chokedOf(item))
  }
}

describe('core/swarm/upload-policy: kept busy order and slot-holder deadlines', function () {
  // Thousands of random steps through two implementations: seconds on a loaded machine.
  this.timeout(60_000)
  it('decides exactly as gathering and sorting every busy requester per decision, over random uploader lives', () => {
    const inits: UploadPolicyInit[] = [
      originUploadPolicy(),
      originUploadPolicy({ busyThresholdRequesters: 2, regularSlots: 1, optimisticSlots: 1 }),
      { regularSlots: 4 },
      { ...originUploadPolicy(), idleSlotMs: 1_000, stallPenaltyMs: 3_000 }
    ]
    let seed = 1
    for (const init of inits) for (let i = 0; i < 4; i++) scenario(seed++, init, 600)
    // As the simulator's origins run it (no addresses, no reciprocation): decisions that can change nothing are skipped.
    for (const init of inits) for (let i = 0; i < 6; i++) scenario(seed++, init, 800, true)
  })
})
