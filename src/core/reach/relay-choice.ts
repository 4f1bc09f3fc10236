/**
 * Who relays for whom (after the circuit relay v2 design, libp2p specs
 * `relay/circuit-v2.md`; Joost and Skype relayed NATed clients through
 * their reachable tier):
 * - members (supernodes, seeders) run relays; a leaf never relays;
 * - a leaf that others cannot dial (its reachability is `private`, so two
 *   verifier networks failed to reach it) holds a reservation at each
 *   supernode it is attached to, and at nothing else, so its relayed
 *   addresses name the supernodes that index it;
 * - a leaf whose reachability is `public` or still `unknown` holds none
 *   (unknown: the verdict comes within seconds of attaching; a reservation
 *   made before it would cost a supernode a slot for a dialable peer).
 */
import type { Contact } from '../dht/contact.js'
import type { OverlayRole } from '../tier/supernode-policy.js'
import type { Reachability } from './reachability.js'

/** Whether a node of `role` grants relay reservations. */
export function servesRelay (role: OverlayRole): boolean { return role !== 'leaf' }

/** The relays a node should hold reservations at now (see the rules above). */
export function relaysWanted (role: OverlayRole, reachability: Reachability, attached: readonly Contact[]): Contact[] {
  if (role !== 'leaf' || reachability !== 'private') return []
  return attached.filter(c => c.origin !== true)
}
