/** Reads a `get --json` done event's per-source byte counts by peer id (sources are keyed by multiaddr). */

/** True when `addr` is an address of the peer `id`. */
export const isPeer = (id: string) => (addr: string): boolean => addr.endsWith(`/p2p/${id}`)

/** Bytes of a done event from the source whose address names `peerId`. */
export function bytesFrom (ev: Record<string, unknown>, peerId: string): number {
  return Object.entries(ev.bytesBySource as Record<string, number>).filter(([a]) => isPeer(peerId)(a)).reduce((n, [, b]) => n + b, 0)
}
