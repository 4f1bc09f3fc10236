/**
 * Flat Kademlia (kademlia-* and kad-churn-* scenarios): every node is one
 * src/core/dht DhtNode; this adapter only drives it (bootstrap, periodic
 * re-join, measurement lookups) and reports what the lookups found.
 *
 * Measurement: after `warmupS`, each online node starts lookups at Poisson
 * rate `lookupsPerNodePerHour`. A lookup targets a random node that is
 * online at that moment (the simulator, not the node, knows who is):
 * with probability `getProvidersShare` a get-providers for the key that
 * node announced after joining (success: the target is among the providers
 * found), else a find-node for its id (success: the target answered, i.e.
 * is among the closest returned). Hops = the core's LookupResult.hops (hop
 * depth of the closest peer that answered); latency = lookup start to its
 * lookup-done, in virtual ms.
 */
import type { Rng } from '../engine/rng.js'
import { keyFromBytes, type Key } from '../../src/core/ids.js'
import { DhtBusyError, DhtNode, requestIdCounter, type DhtEffect } from '../../src/core/dht/dht-node.js'
import type { DhtMessage } from '../../src/core/messages/dht-messages.js'
import type { Effect, NodeAdapter, NodeAdapterFactory, ProtocolFactory } from './node-adapter.js'
import type { SimDirectory } from './sim-directory.js'
import { simMessageBytes, type SimMessage } from './sim-messages.js'
import type { World } from './world.js'

/** protocol.params of a kademlia scenario (every field optional). */
export interface KademliaParams {
  /** Bucket size and result size. Default 20. */
  k?: number
  /** Lookup parallelism. Default 3. */
  alpha?: number
  /** Measurement lookups per online node per hour. Default 10. */
  lookupsPerNodePerHour?: number
  /** Share of measurement lookups that are get-providers (the rest find-node). Default 0.5. */
  getProvidersShare?: number
  /** No measurement lookups before this time, s (tables fill first). Default 300. */
  warmupS?: number
  /** Nodes named in each node's bootstrap list (drawn at random). Default 8. */
  bootstrapContacts?: number
  /** A node whose table holds fewer than k contacts re-joins this often, s. Default 600. */
  refreshIntervalS?: number
  /** Nodes online at t = 0 join at a uniform time in [0, joinSpreadS). Default 60. */
  joinSpreadS?: number
  /** DHT request timeout, ms. Default 5000. */
  requestTimeoutMs?: number
}

function num (v: unknown, def: number): number { return typeof v === 'number' && Number.isFinite(v) ? v : def }

/** Resolves KademliaParams defaults. */
export function kademliaParams (p: Record<string, unknown>): Required<KademliaParams> {
  return {
    k: num(p.k, 20),
    alpha: num(p.alpha, 3),
    lookupsPerNodePerHour: num(p.lookupsPerNodePerHour, 10),
    getProvidersShare: num(p.getProvidersShare, 0.5),
    warmupS: num(p.warmupS, 300),
    bootstrapContacts: num(p.bootstrapContacts, 8),
    refreshIntervalS: num(p.refreshIntervalS, 600),
    joinSpreadS: num(p.joinSpreadS, 60),
    requestTimeoutMs: num(p.requestTimeoutMs, 5000)
  }
}

const encoder = new TextEncoder()

/** Key node `node` announces in flat-Kademlia runs. */
export function announcedKey (node: number): Key { return keyFromBytes(encoder.encode(`sim-provided-${node}`)) }

interface Measured { startMs: number, target: number, kind: 'find-node' | 'get-providers' }

/** Factory of flat-Kademlia node adapters for one world. */
export function kademliaFactory (world: World, dir: SimDirectory, params: Record<string, unknown>): ProtocolFactory {
  const p = kademliaParams(params)
  const rngs: Array<Rng | undefined> = new Array(world.nodeCount)
  /** 1 once the node's own key announcement finished in this session. */
  const announced = new Uint8Array(world.nodeCount)
  const rngOf = (node: number): Rng => { let r = rngs[node]; if (r == null) { r = world.streams.stream('kad-node', node); rngs[node] = r } return r }
  const lookupGapMs = (rng: Rng): number => p.lookupsPerNodePerHour <= 0 ? Infinity : -Math.log(rng.floatOpen()) * 3_600_000 / p.lookupsPerNodePerHour

  const create: NodeAdapterFactory<SimMessage> = (node, startMs) => {
    const rng = rngOf(node)
    const self = dir.contact(node)
    // Classic Kademlia sees no closed connections (sim/README): BEP 5's 15 min freshness, not the core default.
    const dht = new DhtNode({ self, k: p.k, alpha: p.alpha, regionOf: dir.regionOf, requestTimeoutMs: p.requestTimeoutMs, pingFreshMs: 15 * 60 * 1000, nextRequestId: requestIdCounter() })
    const measured = new Map<number, Measured>()
    const joinAtMs = startMs === 0 ? rng.float() * p.joinSpreadS * 1000 : startMs
    let nextJoinAtMs = joinAtMs
    let nextLookupAtMs = Math.max(p.warmupS * 1000, joinAtMs) + lookupGapMs(rng)
    announced[node] = 0

    const exec = (nowMs: number, effects: DhtEffect[], out: Array<Effect<SimMessage>>): Array<Effect<SimMessage>> => {
      for (const e of effects) {
        if (e.type === 'send') out.push({ type: 'send', to: dir.nodeOf(e.to), message: e.message, sizeBytes: simMessageBytes(e.message) })
        else if (e.type === 'penalize') out.push({ type: 'observe', name: 'dht.penalized', value: 1 })
        else if (e.type === 'lookup-done') {
          if (e.purpose === 'bootstrap') {
            try { exec(nowMs, dht.provide(nowMs, announcedKey(node)).effects, out) } catch (err) { if (!(err instanceof DhtBusyError)) throw err }
          } else if (e.purpose === 'provide') announced[node] = 1
          const m = measured.get(e.lookupId)
          if (m == null) continue
          measured.delete(e.lookupId)
          const target = dir.contact(m.target).peerId
          const ok = m.kind === 'find-node' ? e.result.closest.some(c => c.peerId === target) : e.result.providers.some(c => c.peerId === target)
          out.push({ type: 'observe', name: 'lookup.success', value: ok ? 1 : 0 })
          out.push({ type: 'observe', name: 'lookup.hops', value: e.result.hops })
          out.push({ type: 'observe', name: 'lookup.latencyMs', value: nowMs - m.startMs })
        }
      }
      return out
    }

    const join = (nowMs: number, out: Array<Effect<SimMessage>>): void => {
      nextJoinAtMs = nowMs + p.refreshIntervalS * 1000
      if (dht.table.size >= p.k) return
      const seeds = []
      for (let i = 0; i < p.bootstrapContacts && world.peerCount > 1; i++) {
        const s = rng.int(world.nodeCount)
        if (s !== node) seeds.push(dir.contact(s))
      }
      try { exec(nowMs, dht.bootstrap(nowMs, seeds).effects, out) } catch (err) { if (!(err instanceof DhtBusyError)) throw err }
    }

    const measure = (nowMs: number, out: Array<Effect<SimMessage>>): void => {
      nextLookupAtMs = nowMs + lookupGapMs(rng)
      const getProviders = rng.float() < p.getProvidersShare
      let target = -1
      for (let t = 0; t < 16; t++) {
        const c = rng.int(world.peerCount)
        if (c !== node && world.online[c] === 1 && (!getProviders || announced[c] === 1)) { target = c; break }
      }
      if (target < 0) return
      try {
        const l = getProviders ? dht.getProviders(nowMs, announcedKey(target), 1) : dht.findNode(nowMs, dir.contact(target).id)
        measured.set(l.lookupId, { startMs: nowMs, target, kind: getProviders ? 'get-providers' : 'find-node' })
        exec(nowMs, l.effects, out)
      } catch (err) {
        if (!(err instanceof DhtBusyError)) throw err
      }
    }

    const adapter: NodeAdapter<SimMessage> = {
      start: () => [],
      stop: () => { announced[node] = 0; return [] },
      onMessage: (nowMs, from, message) => {
        const out: Array<Effect<SimMessage>> = []
        const c = dir.contact(from)
        exec(nowMs, dht.peerAuthenticated(nowMs, c), out)
        return exec(nowMs, dht.handleMessage(nowMs, c, message as DhtMessage), out)
      },
      onTimer: (nowMs) => {
        const out = exec(nowMs, dht.handleTimeout(nowMs), [])
        if (nowMs >= nextJoinAtMs) join(nowMs, out)
        if (nowMs >= nextLookupAtMs) measure(nowMs, out)
        return out
      },
      nextDeadlineMs: () => {
        const d = dht.nextDeadlineMs()
        let m = Math.min(nextJoinAtMs, nextLookupAtMs)
        if (d !== undefined && d < m) m = d
        return m
      }
    }
    return adapter
  }
  return { create }
}
