/**
 * Keeps a peer's own address current while it runs: `--public-ip` when
 * given, else what libp2p identify reports others observe (updated on
 * every identify), else its listen addresses (rules in
 * core/proximity/public-address.ts, chooseSelfAddress). The swarm ranker
 * follows it, so a peer behind a NAT, or on the loopback model with no
 * --public-ip, ranks from the address its peers see.
 */
import type { SwarmNode } from '../net/swarm-node.js'
import { chooseSelfAddress } from '../core/proximity/public-address.js'
import { formatIpAddress } from '../core/proximity/ip-address.js'

/** Most recent identify observations kept. */
export const MAX_SELF_OBSERVATIONS = 64

/** Options for SelfAddressTracker. */
export interface SelfAddressTrackerInit {
  /** Configured public IP (`--public-ip`): used as is, nothing is learned. Default: learn. */
  overrideIp?: string
  /** Called with the new address text whenever the chosen address changes. */
  onChange?: (address: string | undefined) => void
}

/** Follows identify's observed addresses on `node` (see the file's comment). */
export class SelfAddressTracker {
  private readonly observed: string[] = []
  private current: string | undefined
  private readonly listener = (e: CustomEvent<{ observedAddr?: { toString: () => string } }>): void => {
    const addr = e.detail.observedAddr
    if (addr == null) return
    this.observed.push(addr.toString())
    if (this.observed.length > MAX_SELF_OBSERVATIONS) this.observed.shift()
    this.update()
  }

  /** Starts following `node`; `address` is known at once (override or listen address). */
  constructor (private readonly node: SwarmNode, private readonly init: SelfAddressTrackerInit = {}) {
    this.current = this.choose()
    if (init.overrideIp == null) node.addEventListener('peer:identify', this.listener as any)
  }

  /** The address chosen now (text), or undefined when nothing is known. */
  get address (): string | undefined {
    return this.current
  }

  /** Observations kept (oldest first), for status and tests. */
  get observations (): readonly string[] {
    return this.observed
  }

  /** Stops following the node. */
  stop (): void {
    this.node.removeEventListener('peer:identify', this.listener as any)
  }

  private choose (): string | undefined {
    const ip = chooseSelfAddress({
      overrideIp: this.init.overrideIp,
      observedMultiaddrs: this.observed,
      listenMultiaddrs: this.node.getMultiaddrs().map(a => a.toString())
    })
    return ip != null ? formatIpAddress(ip) : undefined
  }

  private update (): void {
    const next = this.choose()
    if (next === this.current) return
    this.current = next
    this.init.onChange?.(next)
  }
}
