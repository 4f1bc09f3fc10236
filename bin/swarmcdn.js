#!/usr/bin/env -S node --max-semi-space-size=2
// Thin launcher: the CLI is compiled to dist/ by `npm ci` (the prepare script).
// The shebang flags are SWARMCDN_NODE_FLAGS (src/cli/node-flags.ts says why).
const major = Number(process.versions.node.split('.')[0])
if (major < 22) {
  process.stderr.write(`swarmcdn needs Node.js 22 or newer (this is ${process.version}); run it as \`npx swarmcdn\` inside the project so it uses the bundled Node.\n`)
  process.exit(1)
}
// The small young generation that keeps a download's memory low costs the
// simulator (millions of short-lived events) about a third of its speed
// (measured: 30 s vs 22 s on lose-supernodes-30pct), so `sim` runs in a
// child without it.
const semiSpaceFlag = /^--max-semi-space-size=/
if (process.argv[2] === 'sim' && process.execArgv.some(f => semiSpaceFlag.test(f))) {
  const { spawnSync } = await import('node:child_process')
  const execArgv = process.execArgv.filter(f => !semiSpaceFlag.test(f))
  const child = spawnSync(process.execPath, [...execArgv, ...process.argv.slice(1)], { stdio: 'inherit' })
  process.exit(child.status ?? 1)
}
await import('../dist/src/cli/main.js')
