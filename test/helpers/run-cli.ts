import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** Absolute path of the launcher, so tests run the CLI exactly as a user does. */
export const CLI_PATH = fileURLToPath(new URL('../../../bin/swarmcdn.js', import.meta.url))

/** Result of one CLI run. */
export interface CliResult { code: number | null, stdout: string, stderr: string }

/** Runs `swarmcdn ...args` on this Node, bounded by `timeoutMs`. */
export async function runCli (args: string[], options: { cwd?: string, timeoutMs?: number, env?: NodeJS.ProcessEnv, prefix?: string[] } = {}): Promise<CliResult> {
  return await new Promise((resolve, reject) => {
    const argv = [...(options.prefix ?? []), process.execPath, CLI_PATH, ...args]
    const child = spawn(argv[0], argv.slice(1), { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`swarmcdn ${args.join(' ')} did not finish in ${options.timeoutMs ?? 20000} ms`)) }, options.timeoutMs ?? 20000)
    child.on('close', code => { clearTimeout(timer); resolve({ code, stdout, stderr }) })
  })
}

/** A long-running `swarmcdn` child (seed, peer) whose stdout JSON lines can be awaited. */
export interface CliProcess {
  child: ChildProcess
  /** Every JSON object printed on stdout so far. */
  events: Array<Record<string, unknown>>
  /** Everything printed on stderr so far. */
  stderr: () => string
  /** Resolves with the first event (already printed or to come) that matches, or rejects after `timeoutMs`. */
  waitFor: (match: (e: Record<string, unknown>) => boolean, timeoutMs?: number) => Promise<Record<string, unknown>>
  /** Sends `signal` and resolves with the exit code once the process ended (SIGKILL after `timeoutMs`). */
  stop: (signal?: NodeJS.Signals, timeoutMs?: number) => Promise<number | null>
}

/**
 * Starts `swarmcdn ...args` in the background (add `--json` to get events);
 * with `script`, that Node script instead of the CLI (the NAT tests' attackers).
 * `nodeFlags` go to this Node before the launcher: SWARMCDN_NODE_FLAGS runs
 * the process with the V8 flags the shell launcher gives a user's command
 * (what a memory measurement must see).
 */
export function startCli (args: string[], options: { env?: NodeJS.ProcessEnv, prefix?: string[], nodeFlags?: readonly string[], script?: string } = {}): CliProcess {
  // A prefix that execs its argument (`ip netns exec NS`) keeps the child's pid the CLI's own.
  const argv = [...(options.prefix ?? []), process.execPath, ...(options.nodeFlags ?? []), options.script ?? CLI_PATH, ...args]
  const child = spawn(argv[0], argv.slice(1), { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] })
  const events: Array<Record<string, unknown>> = []
  const waiters = new Set<() => void>()
  let stderr = ''
  let buf = ''
  let exitCode: number | null | undefined
  const exited = new Promise<number | null>(resolve => child.on('close', code => { exitCode = code; resolve(code); for (const w of waiters) w() }))
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString() })
  child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString()
    let nl
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl)
      buf = buf.slice(nl + 1)
      if (line.startsWith('{')) { try { events.push(JSON.parse(line) as Record<string, unknown>) } catch {} }
    }
    for (const w of waiters) w()
  })
  return {
    child,
    events,
    stderr: () => stderr,
    waitFor: async (match, timeoutMs = 10_000) => await new Promise((resolve, reject) => {
      const check = (): void => {
        const found = events.find(match)
        if (found != null) { done(); resolve(found) } else if (exitCode !== undefined) { done(); reject(new Error(`swarmcdn ${args[0]} exited (${String(exitCode)}) first: ${stderr}`)) }
      }
      const timer = setTimeout(() => { done(); reject(new Error(`no matching event from swarmcdn ${args[0]} in ${timeoutMs} ms: ${stderr}`)) }, timeoutMs)
      const done = (): void => { clearTimeout(timer); waiters.delete(check) }
      waiters.add(check)
      check()
    }),
    stop: async (signal = 'SIGINT', timeoutMs = 10_000) => {
      if (exitCode !== undefined) return exitCode
      child.kill(signal)
      const timer = setTimeout(() => { child.kill('SIGKILL') }, timeoutMs)
      const code = await exited
      clearTimeout(timer)
      return code
    }
  }
}
