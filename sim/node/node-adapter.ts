/**
 * The contract between the simulator and a protocol's pure core state
 * machines (src/core/dht, tier, swarm, proximity). The simulator never
 * contains protocol logic: it hosts one NodeAdapter per simulated node,
 * feeds it (nowMs, input) and turns the effects it returns into events —
 * messages delivered after the network model's delay, timers fired at
 * their time. The same core objects are driven by src/net in production.
 */

/** Something a node's core asks the world to do. */
export type Effect<M> =
  /** Deliver `message` to node `to` after latency + sizeBytes / bottleneck (dropped if `to` is offline on arrival). */
  | { type: 'send', to: number, message: M, sizeBytes: number }
  /** Fire onTimer(key) at absolute virtual time atMs; a later set-timer with the same key replaces it. */
  | { type: 'set-timer', key: string, atMs: number }
  /** Forget the timer with this key. */
  | { type: 'cancel-timer', key: string }
  /** Report a protocol metric sample (e.g. 'lookup.hops', 'lookup.success' 0/1) to the observers. */
  | { type: 'observe', name: string, value: number }

/** What the world tells a node about itself when it is created. */
export interface NodeInfo {
  /** Node index in the simulation (stable across restarts). */
  index: number
  /** 'peer', 'supernode' or 'seeder' (the static role from the scenario). */
  role: 'peer' | 'supernode' | 'seeder'
  /** AS number the node is placed in. */
  asn: number
  /** IPv4 address as an unsigned 32-bit integer. */
  ipv4: number
  /** Access link, bytes/s. */
  upBytesPerSec: number
  /** Access link, bytes/s. */
  downBytesPerSec: number
}

/**
 * One simulated node's protocol stack. Every method is synchronous, takes
 * the current virtual time, and returns effects; none may read a clock or
 * Math.random (randomness comes from the `random` passed to the factory).
 */
export interface NodeAdapter<M> {
  /** The node came online (first start or after churn/restart): bootstrap, set timers. */
  start: (nowMs: number) => Array<Effect<M>>
  /** The node went offline; pending timers and in-flight messages to it are dropped by the world. */
  stop: (nowMs: number) => void
  /** A message from node `from` arrived. */
  onMessage: (nowMs: number, from: number, message: M) => Array<Effect<M>>
  /** A timer set with `key` fired. */
  onTimer: (nowMs: number, key: string) => Array<Effect<M>>
  /** The workload asks this node to fetch catalog item `itemRank` of `sizeBytes`. */
  onRequest?: (nowMs: number, itemRank: number, sizeBytes: number) => Array<Effect<M>>
}

/** Creates the adapter for one node; `random` returns uniform [0, 1) draws from the node's own seeded stream. */
export type NodeAdapterFactory<M> = (info: NodeInfo, random: () => number) => NodeAdapter<M>
