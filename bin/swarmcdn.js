#!/usr/bin/env -S node --max-semi-space-size=2
// Thin launcher: the CLI is compiled to dist/ by `npm ci` (the prepare script).
// The shebang flags are SWARMCDN_NODE_FLAGS (src/cli/node-flags.ts says why).
const major = Number(process.versions.node.split('.')[0])
if (major < 22) {
  process.stderr.write(`swarmcdn needs Node.js 22 or newer (this is ${process.version}); run it as \`npx swarmcdn\` inside the project so it uses the bundled Node.\n`)
  process.exit(1)
}
// The small young generation that keeps a download's memory low costs the
// simulator (millions of short-lived events) about a third of its speed,
// so `sim` runs in a child with the simulator's own V8 flags instead
// (SIM_NODE_FLAGS in src/cli/node-flags.ts says why).
if (process.argv[2] === 'sim') {
  const { rerunWithSimFlags } = await import('../dist/src/cli/node-flags.js')
  const status = rerunWithSimFlags()
  if (status !== undefined) process.exit(status)
}
await import('../dist/src/cli/main.js')
