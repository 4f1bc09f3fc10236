import { expect } from 'chai'
import { originUploadPolicy, UploadPolicy } from '../../../src/core/swarm/upload-policy.js'
import { SourceChooser, MAX_REFIND_INTERVAL_MS } from '../../../src/core/swarm/source-admission.js'

describe('core/swarm/upload-policy', () => {
  it('an origin serves the long tail to everyone and chokes the crowd of a busy item beyond 4 + 1 slots', () => {
    const p = new UploadPolicy(originUploadPolicy())
    for (let i = 0; i < 3; i++) p.admit(0, `r${i}`, { item: 'tail', peerId: `p${i}`, pieceCount: 8 })
    expect([0, 1, 2].every(i => !p.isChoked(`r${i}`))).to.equal(true)
    expect(p.slotUtilization()).to.equal(0) // the long tail holds no slot
    for (let i = 0; i < 8; i++) p.admit(10, `c${i}`, { item: 'hit', peerId: `q${i}`, pieceCount: 8 })
    const unchoked = [...Array(8).keys()].filter(i => !p.isChoked(`c${i}`))
    expect(unchoked).to.have.length(5)
    expect(p.isBusy('hit')).to.equal(true)
    expect(p.slotUtilization()).to.equal(1)
    // A busy item's pieces are spread: the same piece twice in a row is declined.
    const [a, b, c] = unchoked
    // Until a requester has shown it reads, what it is admitted counts only once sent and read.
    p.requested(20, `c${a}`) // asking before any piece went out shows nothing
    expect(p.admitPiece(20, `c${a}`, 3)).to.equal(true)
    expect(p.admitPiece(20, `c${b}`, 3)).to.equal(true)
    p.sent(21, `c${a}`, 3)
    expect(p.admitPiece(21, `c${c}`, 4)).to.equal(true)
    expect(p.admitPiece(21, `c${c}`, 3), 'sent, not yet read: not counted').to.equal(true)
    p.requested(22, `c${a}`) // asks again after a piece went out: it reads
    expect(p.admitPiece(22, `c${c}`, 3)).to.equal(false)
  })

  it('unchokes a crowd once its item is no longer busy, and chokes a stalled peer\'s long-tail requests until its penalty ends', () => {
    const p = new UploadPolicy({ ...originUploadPolicy(), regularSlots: 1, optimisticSlots: 0 })
    p.admit(0, 'x:tail', { item: 'tail', peerId: 'x', pieceCount: 8 })
    for (let i = 0; i < 6; i++) p.admit(10, `c${i}:hit`, { item: 'hit', peerId: `c${i}`, pieceCount: 8 })
    const choked = [...Array(6).keys()].filter(i => p.isChoked(`c${i}:hit`))
    expect(choked).to.have.length(5)
    // Three choked ones leave: three requesters are left, under the threshold of 4, and the two still choked are served.
    const changes = choked.slice(0, 3).flatMap(i => p.release(20, `c${i}:hit`))
    expect(p.isBusy('hit')).to.equal(false)
    for (const i of choked.slice(3)) {
      expect(p.isChoked(`c${i}:hit`)).to.equal(false)
      expect(changes).to.deep.include({ key: `c${i}:hit`, choked: false })
    }
    expect(p.isChoked('x:tail')).to.equal(false)
    // x's other stream stops reading: its long-tail request is choked with it, for the penalty's 60 s.
    p.admit(30, 'x:other', { item: 'other', peerId: 'x', pieceCount: 8 })
    expect(p.stalled(31, 'x:other')).to.deep.equal([{ key: 'x:tail', choked: true }])
    p.release(32, 'x:other')
    expect(p.isChoked('x:tail')).to.equal(true)
    expect(p.nextDeadlineMs(33)).to.be.at.most(31 + 60_000)
    expect(p.timer(31 + 59_999)).to.deep.equal([])
    expect(p.timer(31 + 60_000)).to.deep.equal([{ key: 'x:tail', choked: false }])
    expect(p.keysOf('hit')).to.deep.equal([...Array(6).keys()].filter(i => !choked.slice(0, 3).includes(i)).map(i => `c${i}:hit`))
    expect(p.releasePeer(31 + 60_001, 'nobody')).to.deep.equal([])
  })

  it('a closed connection releases every requester of that peer and hands its slot on', () => {
    const p = new UploadPolicy({ regularSlots: 1, optimisticSlots: 0 })
    p.admit(0, 'a:1', { item: '1', peerId: 'a' })
    p.admit(0, 'a:2', { item: '2', peerId: 'a' })
    p.admit(0, 'b:1', { item: '1', peerId: 'b' })
    expect(p.isChoked('b:1')).to.equal(true)
    const changes = p.releasePeer(5, 'a')
    expect(p.size).to.equal(1)
    expect(changes).to.deep.include({ key: 'b:1', choked: false })
  })

  it('gives the slot in `rank` order at a rechoke, and an idle holder\'s slot to a requester that asks', () => {
    // Rank: peer ids in reverse order (b before a).
    const p = new UploadPolicy({ regularSlots: 1, optimisticSlots: 0, idleSlotMs: 100, rank: ws => [...ws].sort((x, y) => x.peerId < y.peerId ? 1 : -1) })
    p.admit(0, 'a:1', { item: '1', peerId: 'a' })
    expect(p.isChoked('a:1')).to.equal(false)
    expect(p.admit(1, 'b:1', { item: '1', peerId: 'b' })).to.deep.equal([])
    expect(p.isChoked('b:1'), 'between rechokes the holder keeps its slot').to.equal(true)
    p.requested(9_999, 'a:1')
    expect(p.timer(10_000), 'the rechoke follows rank').to.deep.equal([{ key: 'a:1', choked: true }, { key: 'b:1', choked: false }])
    p.requested(10_050, 'a:1')
    expect(p.timer(10_099), 'not idle yet').to.deep.equal([])
    expect(p.timer(10_100), 'b asked for nothing for idleSlotMs').to.deep.equal([{ key: 'a:1', choked: false }, { key: 'b:1', choked: true }])
    expect(p.slotUtilization()).to.equal(1)
  })
})

describe('core/swarm/source-admission: SourceChooser', () => {
  it('a slot holder whose first piece is still on its way keeps its slot only when known to read (the simulator\'s requesters)', () => {
    for (const reads of [false, true]) {
      const p = new UploadPolicy({ ...originUploadPolicy(), regularSlots: 1, optimisticSlots: 0, idleSlotMs: 1_000 })
      for (let i = 0; i < 5; i++) p.admit(0, `c${i}`, { item: 'hit', peerId: `q${i}`, pieceCount: 8, reads })
      const holder = [...Array(5).keys()].map(i => `c${i}`).find(k => !p.isChoked(k)) as string
      p.requested(10, holder)
      expect(p.admitPiece(10, holder, 0)).to.equal(true) // a slow piece: nothing sent or asked for 1.5 s
      p.timer(1_510)
      // Not known to read, a piece pending is no proof (a stream that never reads); known to read, a slow link is not idleness.
      expect(p.isChoked(holder), `reads: ${String(reads)}`).to.equal(!reads)
    }
  })

  it('takes origins as fallbacks, near peers first, never itself, and refinds less often while answers add nobody', () => {
    const c = new SourceChooser({ self: 'me', maxPeers: 3, maxFarPeers: 1, knowsOwnAs: true, refindIntervalMs: 1000 })
    const chosen = c.choose([
      { peerId: 'o', origin: true, near: false },
      { peerId: 'me', origin: false, near: true },
      { peerId: 'far1', origin: false, near: false },
      { peerId: 'near1', origin: false, near: true },
      { peerId: 'far2', origin: false, near: false }
    ])
    expect(chosen.map(s => [s.peerId, s.isOrigin])).to.deep.equal([['o', true], ['far1', false], ['near1', false]])
    expect(chosen.find(s => s.peerId === 'near1')?.preference).to.be.below(1)
    expect(chosen.find(s => s.peerId === 'far1')?.preference).to.be.at.least(1)
    expect(c.refindAfter(2)).to.equal(1000)
    expect(c.refindAfter(0)).to.equal(2000)
    expect(c.refindAfter(0)).to.equal(4000)
    for (let i = 0; i < 10; i++) c.refindAfter(0)
    expect(c.refindAfter(0)).to.equal(MAX_REFIND_INTERVAL_MS)
    expect(c.choose([{ peerId: 'near2', origin: false, near: true }]).map(s => s.peerId)).to.deep.equal(['near2'])
    expect(c.refindAfter(1)).to.equal(undefined) // full: 3 peers
    c.lost('near2', true)
    expect(c.refindAfter(0)).to.be.a('number')
  })
})
