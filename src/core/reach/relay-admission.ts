/**
 * Whether a relay grants one more reservation, per host network (circuit
 * relay v2, libp2p specs `relay/circuit-v2.md`, leaves the admission
 * policy to the relay).
 *
 * Rules:
 * - A requester's network is its IPv4 /24 or IPv6 /48 (the unit of trust
 *   of core/reach/reachability.ts): identities are free, addresses are not,
 *   so a host that makes many peer ids is one requester.
 * - A network holds at most `maxPerNetwork` reservations at once; a renewal
 *   by a peer that already holds one is always granted (it takes no new
 *   slot). The relay's total (`maxReservations`) is libp2p's to enforce.
 * - A requester seen on no IP (a relayed connection) is refused: libp2p
 *   refuses reservations over relays anyway, and such a requester could not
 *   be counted.
 * Why: reservations outlive their connections (2 h by default), so without
 * this one host could take every slot of a relay for hours with cheap
 * identities, and the leaves behind real NATs would find no relay.
 */
import { verifierNetwork } from './reachability.js'

/** One reservation a relay holds: whose, and the IP it was made from (undefined when not known). */
export interface HeldReservation { peerId: string, ip: string | undefined }

/** Why a reservation is refused, or undefined when it is granted. */
export function reservationRefusal (requester: HeldReservation, held: Iterable<HeldReservation>, maxPerNetwork: number): string | undefined {
  if (requester.ip === undefined) return 'requester has no IP address'
  const net = verifierNetwork(requester.ip)
  let same = 0
  for (const r of held) {
    if (r.peerId === requester.peerId) return undefined
    if (r.ip !== undefined && verifierNetwork(r.ip) === net) same++
  }
  return same >= maxPerNetwork ? `network already holds ${same} of ${maxPerNetwork} reservations` : undefined
}
