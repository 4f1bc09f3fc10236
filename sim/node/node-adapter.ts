/**
 * The contract between the simulator and a protocol's pure core state
 * machines (src/core/dht, tier, swarm, proximity). The simulator never
 * contains protocol logic: the ProtocolHost (protocol-host.ts) hosts one
 * NodeAdapter per online node, feeds it (nowMs, input) and turns the
 * effects it returns into events — messages delivered after the network
 * model's delay, bulk transfers at the fair-share rate, and ONE timer per
 * node at `nextDeadlineMs()`, re-armed after every input (the sans-IO
 * poll_timeout / handle_timeout pattern of quinn-proto and h11). The same
 * core objects are driven by src/net in production.
 */
import type { SimObserver } from './observer.js'
import type { SimMessage } from './sim-messages.js'

/** Something a node's core asks the world to do. */
export type Effect<M> =
  /** Deliver `message` to node `to` after latency + sizeBytes / min(up, down); dropped if `to` restarted or went offline (the sender's own request timeout then fails it, as a dead connection does in the binding). */
  | { type: 'send', to: number, message: M, sizeBytes: number }
  /** Upload `bytes` of content to `to` at the fair-share rate (network model), then deliver `message`; counted as seeder or peer bytes when it arrives. */
  | { type: 'transfer', to: number, message: M, bytes: number }
  /** Report a protocol metric sample (e.g. 'lookup.hops', 'lookup.success' 0/1) to the observers. */
  | { type: 'observe', name: string, value: number }
  /** A download of catalog item `itemRank` completed (`bytes` received) or was given up. */
  | { type: 'download', itemRank: number, startMs: number, bytes: number, completed: boolean }
  /** The node's overlay role changed (the tier promoted or demoted it). */
  | { type: 'role', supernode: boolean }
  /** The node's attachment count changed (leaves only): 0 means it is an orphan leaf. */
  | { type: 'attachments', count: number }
  /**
   * Emitted by `stop`: the node held open connections to `peers`, which now
   * close; each peer still online learns it through `onPeerDisconnected`
   * `afterMs` later (the transport's detection delay: a FIN/RST at once, a
   * silent crash at the muxer's keep-alive), as the binding learns it from
   * libp2p's connection close event.
   */
  | { type: 'disconnect', peers: number[], afterMs: number }

/** What the world tells a node about itself when it is created. */
export interface NodeInfo {
  /** Node index in the simulation (stable across restarts). */
  index: number
  /** 'peer', 'supernode' or 'seeder' (the static role from the scenario). */
  role: 'peer' | 'supernode' | 'seeder'
}

/**
 * One simulated node's protocol stack, alive while the node is online (a
 * restart builds a new one, as a restarted process would; what a node
 * keeps on disk lives in the factory's own per-node state). Every method is
 * synchronous, takes the current virtual time, and returns effects; none
 * may read a clock or Math.random.
 */
export interface NodeAdapter<M> {
  /** The node came online: bootstrap, attach. */
  start: (nowMs: number) => Array<Effect<M>>
  /** The node goes offline; in-flight messages to it are dropped by the host. */
  stop: (nowMs: number) => Array<Effect<M>>
  /** A message from node `from` arrived. */
  onMessage: (nowMs: number, from: number, message: M) => Array<Effect<M>>
  /** The node's timer fired (at or after `nextDeadlineMs()`). */
  onTimer: (nowMs: number) => Array<Effect<M>>
  /** Earliest time `onTimer` has work, or undefined. */
  nextDeadlineMs: () => number | undefined
  /** A `transfer` of `message` this node started to `to` has ended (delivered or not): its upload slot is free. */
  onTransferSent?: (nowMs: number, to: number, message: M) => Array<Effect<M>>
  /** The connection to node `peer` closed (it went offline; see the `disconnect` effect). */
  onPeerDisconnected?: (nowMs: number, peer: number) => Array<Effect<M>>
  /** The workload asks this node to fetch catalog item `itemRank` of `sizeBytes`. */
  onRequest?: (nowMs: number, itemRank: number, sizeBytes: number) => Array<Effect<M>>
}

/** Creates the adapter for one node each time it comes online. */
export type NodeAdapterFactory<M> = (node: number, nowMs: number) => NodeAdapter<M>

/** What a protocol module gives the runner: the adapter factory and, optionally, an observer that samples its state. */
export interface ProtocolFactory {
  create: NodeAdapterFactory<SimMessage>
  observer?: () => SimObserver
  /** What an online node's protocol state is now (tests, debugging); undefined when it is offline. */
  inspect?: (node: number) => NodeInspection | undefined
}

/** One node's protocol state as a test reads it. */
export interface NodeInspection {
  role: 'leaf' | 'supernode' | 'seeder'
  /** Supernodes a leaf is attached to (node indices). */
  attachedTo: number[]
  /** Chokes its upload policy decided so far. */
  uploadChokes: number
  /** Times an item went busy at its upload policy so far. */
  uploadBusyTimes: number
  /** Holders it named in busy chokes and declines so far ("busy, try these peers"). */
  alternativesNamed: number
  /** Leaves attached to it, when a supernode. */
  leafCount: number | undefined
  /** Provider records its DHT store holds (0 for a leaf). */
  providerRecords: number
  /** Contacts in its routing table (0 for a leaf). */
  routingTableSize: number
}
