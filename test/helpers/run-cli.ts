import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** Absolute path of the launcher, so tests run the CLI exactly as a user does. */
export const CLI_PATH = fileURLToPath(new URL('../../../bin/swarmcdn.js', import.meta.url))

/** Result of one CLI run. */
export interface CliResult { code: number | null, stdout: string, stderr: string }

/** Runs `swarmcdn ...args` on this Node, bounded by `timeoutMs`. */
export async function runCli (args: string[], options: { cwd?: string, timeoutMs?: number, env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_PATH, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`swarmcdn ${args.join(' ')} did not finish in ${options.timeoutMs ?? 20000} ms`)) }, options.timeoutMs ?? 20000)
    child.on('close', code => { clearTimeout(timer); resolve({ code, stdout, stderr }) })
  })
}
