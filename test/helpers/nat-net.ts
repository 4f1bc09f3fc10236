/**
 * Tests' handle on scripts/nat-net.sh: a test internet of network
 * namespaces with NATing home routers (address plan in the script). A
 * run is removed in `down()`, and also when the test process exits.
 */
import { execFile, execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
/** Absolute path of the script. */
export const NAT_NET_SCRIPT = fileURLToPath(new URL('../../../scripts/nat-net.sh', import.meta.url))

/** Why namespaces cannot be built here, or undefined when they can. */
export async function natNetUnavailable (): Promise<string | undefined> {
  if (process.platform !== 'linux') return 'network namespaces need Linux'
  try {
    await run('bash', [NAT_NET_SCRIPT, 'check'], { timeout: 20_000 })
    return undefined
  } catch (err) {
    const e = err as { stderr?: string, message: string }
    return (e.stderr ?? '').trim() !== '' ? (e.stderr ?? '').trim() : e.message
  }
}

/** One built test internet. */
export interface NatNet {
  tag: string
  /** `ip netns exec NS` for a namespace of this run, e.g. `p1`, `h1a`. */
  exec: (ns: string) => string[]
  down: () => Promise<void>
}

/** Builds one run with a home per NAT kind; `publicHosts` public host namespaces p1.. ((10+N).0.N.10). */
export async function natNetUp (kinds: Array<'cone' | 'symmetric' | 'upnp'>, publicHosts = 2): Promise<NatNet> {
  const tag = `t${process.pid % 100000}`
  const env = { ...process.env, NAT_NET_PUBLIC_HOSTS: String(publicHosts) }
  // A leftover of an earlier, killed run under the same pid would make `up` refuse.
  await run('bash', [NAT_NET_SCRIPT, 'down', tag], { timeout: 30_000 }).catch(() => {})
  const onExit = (): void => { try { execFileSync('bash', [NAT_NET_SCRIPT, 'down', tag], { timeout: 30_000 }) } catch {} }
  process.once('exit', onExit)
  await run('bash', [NAT_NET_SCRIPT, 'up', tag, ...kinds], { env, timeout: 60_000 })
  return {
    tag,
    exec: ns => ['ip', 'netns', 'exec', `swn-${tag}-${ns}`],
    down: async () => {
      process.removeListener('exit', onExit)
      await run('bash', [NAT_NET_SCRIPT, 'down', tag], { timeout: 30_000 })
    }
  }
}
