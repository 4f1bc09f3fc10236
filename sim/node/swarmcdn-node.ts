import type { ProtocolFactory } from './kademlia-node.js'
import type { SimDirectory } from './sim-directory.js'
import type { World } from './world.js'
export function swarmcdnFactory (_world: World, _dir: SimDirectory, _params: Record<string, unknown>): ProtocolFactory { throw new Error('todo') }
