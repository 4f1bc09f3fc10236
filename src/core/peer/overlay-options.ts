/**
 * The options of one overlay peer, resolved once: every setting has one
 * default, here, for the libp2p peer, the origin seeder and the simulator
 * alike. A shell passes what its user configured and nothing else.
 */
import type { DhtNodeInit } from '../dht/dht-node.js'
import { ProviderAdmission, type ProviderAdmissionInit } from '../dht/provider-admission.js'
import type { LeafAttachmentInit } from '../tier/leaf-attachment.js'
import type { SupernodeIndexInit } from '../tier/supernode-index.js'
import type { OverlayRole, SupernodePolicyInit } from '../tier/supernode-policy.js'
import type { ReachabilityInit } from '../reach/reachability.js'

/** Role requested for a peer: a fixed one, or `auto` (start as leaf, let SupernodePolicy decide). */
export type OverlayRoleSetting = OverlayRole | 'auto'

/** Options of an OverlayPeer; every field optional. */
export interface OverlayPeerInit {
  /** Role. Default 'auto' (leaf until SupernodePolicy promotes it). */
  role?: OverlayRoleSetting
  /** Rank providers and supernodes by AS and shared prefix (false: tie keys only, to measure what proximity buys). Default true. */
  proximity?: boolean
  /** Kademlia k: bucket size, lookup result size, and the table size a member stops bootstrapping at. Default 20. */
  k?: number
  /** Time any DHT/tier request has to answer, ms. Default 5000. */
  requestTimeoutMs?: number
  /** Leaf keep-alive interval asked by supernodes (and the leaf's ceiling), ms. Default 15 000. */
  keepAliveIntervalMs?: number
  /** Time a supernode spends resolving a leaf's query (DHT lookup + forwards) before answering with what it has, ms. Default requestTimeoutMs: a leaf waits queryBudgetMs + requestTimeoutMs, so its own timeout never fires first. */
  queryBudgetMs?: number
  /** Announcers asked (localOnly) per query after the DHT lookup, one origin seeder always among them. Default 3. */
  maxForwardQueries?: number
  /** How often a leaf short of supernodes, or a member with fewer than k contacts, looks for more, ms. Default 30 000. */
  refreshIntervalMs?: number
  /** How often `role: 'auto'` consults SupernodePolicy, ms (the first check falls at a random point of the first interval). Default 5 min. */
  policyIntervalMs?: number
  /** Time a leaf's find waits for a first attachment before it gives up, ms. Default 10 000. */
  attachWaitMs?: number
  /** Servers a leaf asks for supernodes near its id (find-node of its own id) in one discovery round. Default 2. */
  discoveryServers?: number
  /** Early re-discoveries per session when a server named fewer than k/2 contacts (it left, or joined moments ago). Default 6. */
  discoveryRetries?: number
  /** Mean delay of the first early re-discovery, ms (uniform in [half, 1.5x)), doubling for each further one. Default 10 000. */
  discoveryRetryMs?: number
  /** Contacts handed to one DHT bootstrap (drawn from the bootstrap list and the servers this peer heard of). Default 4. */
  bootstrapContacts?: number
  /** DHT servers remembered for leaf candidates, bootstrap and region counts. Default 256. */
  maxKnownServers?: number
  /** DHT provide lookups started per round while others wait. Default 8. */
  providesPerRound?: number
  /** Time between two rounds of provide lookups while some wait, ms. Default 100. */
  provideRoundMs?: number
  /** Members a full supernode ranks for a busy leaf's alternatives (its table's closest to the leaf). Default 20. */
  alternativesConsidered?: number
  /** Share of the upload slots in use (reportLoad) from which a supernode sheds new leaves, 0-1. Default 0.95. */
  overloadUploadUtilization?: number
  /** Event-loop lag (reportLoad, the p99 of the last second) from which a supernode sheds new leaves, ms: the process stalled for that long. Default 500. */
  overloadEventLoopLagMs?: number
  /** How long a DHT lookup's announcers of a key are reused by later finds of that key (which still ask them afresh for holders), ms; 0 looks up every time. Default 30 000. */
  announcerCacheTtlMs?: number
  /** Keys whose announcers are remembered at most. Default 1024. */
  maxCachedAnnouncerKeys?: number
  /** Thresholds of SupernodePolicy (random is the peer's). */
  policy?: Omit<SupernodePolicyInit, 'random'>
  /** Overrides for DhtNode (alpha, republish, rate limits, region limits, provider store quotas). */
  dht?: Omit<DhtNodeInit, 'self' | 'nextRequestId' | 'k' | 'requestTimeoutMs' | 'providerAdmission'>
  /** Who may add provider records here (ProviderAdmission: connection age 10 s, local networks exempt); a shell that reports no connections passes minConnectionAgeMs 0. */
  providerAdmission?: ProviderAdmissionInit
  /** Overrides for LeafAttachment (targetAttachments, maxCandidates, backoffs). */
  leaf?: Omit<LeafAttachmentInit, 'self' | 'random' | 'nextRequestId' | 'queryTimeoutMs' | 'rank' | 'requestTimeoutMs' | 'keepAliveIntervalMs'>
  /** Overrides for SupernodeIndex (maxLeaves, limits). */
  index?: Omit<SupernodeIndexInit, 'self' | 'nextRequestId' | 'alternatives' | 'rank' | 'requestTimeoutMs' | 'keepAliveIntervalMs' | 'queryBudgetMs' | 'maxForwardQueries'>
  /** How dial-back verdicts add up to reachability (ReachabilityTracker: 2 verifier networks, 30 min). */
  reachability?: ReachabilityInit
}

/** OverlayPeerInit with every default filled in. */
export interface ResolvedOverlayOptions {
  role: OverlayRoleSetting
  proximity: boolean
  k: number
  requestTimeoutMs: number
  keepAliveIntervalMs: number
  queryBudgetMs: number
  /** queryBudgetMs + requestTimeoutMs: what a leaf waits for a query's answer. */
  queryTimeoutMs: number
  maxForwardQueries: number
  refreshIntervalMs: number
  policyIntervalMs: number
  attachWaitMs: number
  discoveryServers: number
  discoveryRetries: number
  discoveryRetryMs: number
  bootstrapContacts: number
  maxKnownServers: number
  providesPerRound: number
  provideRoundMs: number
  alternativesConsidered: number
  overloadUploadUtilization: number
  overloadEventLoopLagMs: number
  announcerCacheTtlMs: number
  maxCachedAnnouncerKeys: number
  policy: Omit<SupernodePolicyInit, 'random'>
  dht: NonNullable<OverlayPeerInit['dht']>
  providerAdmission: ProviderAdmissionInit
  leaf: NonNullable<OverlayPeerInit['leaf']>
  index: NonNullable<OverlayPeerInit['index']>
  reachability: ReachabilityInit
}

/** A bad option value (our caller's mistake, rejected at the edge). */
export class OverlayOptionError extends RangeError {
  override name = 'OverlayOptionError'
  readonly code = 'ERR_OVERLAY_OPTION'
}

const ROLES: readonly OverlayRoleSetting[] = ['auto', 'leaf', 'supernode', 'seeder']

/** Fills the defaults of OverlayPeerInit and checks every number; throws OverlayOptionError. */
export function resolveOverlayOptions (init: OverlayPeerInit = {}): ResolvedOverlayOptions {
  const role = init.role ?? 'auto'
  if (!ROLES.includes(role)) throw new OverlayOptionError(`role must be one of ${ROLES.join(', ')}, got ${String(role)}`)
  const requestTimeoutMs = positive('requestTimeoutMs', init.requestTimeoutMs ?? 5000)
  const queryBudgetMs = positive('queryBudgetMs', init.queryBudgetMs ?? requestTimeoutMs)
  return {
    role,
    proximity: init.proximity !== false,
    k: count('k', init.k ?? 20, 1),
    requestTimeoutMs,
    keepAliveIntervalMs: positive('keepAliveIntervalMs', init.keepAliveIntervalMs ?? 15_000),
    queryBudgetMs,
    queryTimeoutMs: queryBudgetMs + requestTimeoutMs,
    maxForwardQueries: count('maxForwardQueries', init.maxForwardQueries ?? 3, 1),
    refreshIntervalMs: positive('refreshIntervalMs', init.refreshIntervalMs ?? 30_000),
    policyIntervalMs: positive('policyIntervalMs', init.policyIntervalMs ?? 5 * 60_000),
    attachWaitMs: positive('attachWaitMs', init.attachWaitMs ?? 10_000),
    discoveryServers: count('discoveryServers', init.discoveryServers ?? 2, 1),
    discoveryRetries: count('discoveryRetries', init.discoveryRetries ?? 6, 0),
    discoveryRetryMs: positive('discoveryRetryMs', init.discoveryRetryMs ?? 10_000),
    bootstrapContacts: count('bootstrapContacts', init.bootstrapContacts ?? 4, 1),
    maxKnownServers: count('maxKnownServers', init.maxKnownServers ?? 256, 0),
    providesPerRound: count('providesPerRound', init.providesPerRound ?? 8, 1),
    provideRoundMs: positive('provideRoundMs', init.provideRoundMs ?? 100),
    alternativesConsidered: count('alternativesConsidered', init.alternativesConsidered ?? 20, 0),
    overloadUploadUtilization: positive('overloadUploadUtilization', init.overloadUploadUtilization ?? 0.95),
    overloadEventLoopLagMs: positive('overloadEventLoopLagMs', init.overloadEventLoopLagMs ?? 500),
    announcerCacheTtlMs: nonNegative('announcerCacheTtlMs', init.announcerCacheTtlMs ?? 30_000),
    maxCachedAnnouncerKeys: count('maxCachedAnnouncerKeys', init.maxCachedAnnouncerKeys ?? 1024, 0),
    policy: init.policy ?? {},
    dht: init.dht ?? {},
    providerAdmission: checked(init.providerAdmission ?? {}),
    leaf: init.leaf ?? {},
    index: init.index ?? {},
    reachability: init.reachability ?? {}
  }
}

/** Checks the admission options once, here, rather than when a peer first becomes a DHT member. */
function checked (init: ProviderAdmissionInit): ProviderAdmissionInit {
  try {
    void new ProviderAdmission(init)
  } catch (err) {
    throw new OverlayOptionError(`providerAdmission: ${(err as Error).message}`)
  }
  return init
}

function positive (name: string, v: number): number {
  if (!(Number.isFinite(v) && v > 0)) throw new OverlayOptionError(`${name} must be a positive number, got ${v}`)
  return v
}

function nonNegative (name: string, v: number): number {
  if (!(Number.isFinite(v) && v >= 0)) throw new OverlayOptionError(`${name} must be a number >= 0, got ${v}`)
  return v
}

function count (name: string, v: number, min: number): number {
  if (!(Number.isSafeInteger(v) && v >= min)) throw new OverlayOptionError(`${name} must be an integer >= ${min}, got ${v}`)
  return v
}
