/**
 * A tiny in-memory effect loop for core tests: delivers DhtNode `send`
 * effects between nodes in FIFO order with zero latency, fails requests to
 * dead nodes after their timeout, and advances virtual time to the next
 * deadline when nothing is in flight. Not the simulator (no latency model,
 * no churn model): just enough to wire a few hundred real nodes together.
 */
import { DhtNode, requestIdCounter, type DhtEffect, type DhtNodeInit, type LookupDoneEffect } from '../../../src/core/dht/dht-node.js'
import type { Contact } from '../../../src/core/dht/contact.js'
import { keyFromBytes } from '../../../src/core/ids.js'

/** Deterministic PRNG in [0, 1) for tests (mulberry32). */
export function seededRandom (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A contact with a private (region-exempt) address unless `ip` is given. */
export function makeContact (name: string, ip = '10.0.0.1'): Contact {
  return { id: keyFromBytes(new TextEncoder().encode(name)), peerId: name, addrs: [`/ip4/${ip}/tcp/4001`] }
}

interface Envelope { from: Contact, to: Contact, effect: DhtEffect }

export class FakeNetwork {
  nowMs = 0
  readonly nodes = new Map<string, DhtNode>()
  readonly dead = new Set<string>()
  readonly done: LookupDoneEffect[] = []
  readonly penalized: Array<{ by: string, peer: string, reason: string }> = []
  sent = 0
  private readonly queue: Envelope[] = []

  add (contact: Contact, init: Partial<DhtNodeInit> = {}): DhtNode {
    const node = new DhtNode({ self: contact, nextRequestId: requestIdCounter(), ...init })
    this.nodes.set(contact.peerId, node)
    return node
  }

  push (self: Contact, effects: DhtEffect[]): void {
    for (const e of effects) {
      if (e.type === 'send') this.queue.push({ from: self, to: e.to, effect: e })
      else if (e.type === 'lookup-done') this.done.push(e)
      else if (e.type === 'penalize') this.penalized.push({ by: self.peerId, peer: e.peer, reason: e.reason })
    }
  }

  /** Delivers until nothing is queued and no deadline is before `untilMs`. */
  run (untilMs = this.nowMs + 60_000, maxSteps = 10_000_000): void {
    for (let steps = 0; steps < maxSteps; steps++) {
      const env = this.queue.shift()
      if (env != null) {
        if (env.effect.type !== 'send') continue
        this.sent++
        const target = this.nodes.get(env.to.peerId)
        if (target == null || this.dead.has(env.to.peerId)) continue // silently lost: the sender times out
        // As the binding does: an inbound authenticated connection from a DHT server peer is reported.
        if (this.nodes.has(env.from.peerId)) this.push(env.to, target.peerAuthenticated(this.nowMs, env.from))
        this.push(env.to, target.handleMessage(this.nowMs, env.from, env.effect.message))
        continue
      }
      let next: number | undefined
      let who: DhtNode | undefined
      for (const [peer, n] of this.nodes) {
        if (this.dead.has(peer)) continue
        const d = n.nextDeadlineMs()
        if (d !== undefined && (next === undefined || d < next)) { next = d; who = n }
      }
      if (next === undefined || who == null || next > untilMs) return
      this.nowMs = Math.max(this.nowMs, next)
      this.push(who.self, who.handleTimeout(this.nowMs))
    }
    throw new Error('fake network did not settle')
  }
}
