/**
 * V8 flags every `swarmcdn` process runs with (bin/swarmcdn.js passes them
 * on its shebang line; a test keeps the two in step).
 *
 * Why a 2 MiB semi-space: moving pieces at 200+ MiB/s allocates one
 * network buffer per 64 KiB (TCP reads, Noise plaintext) whose JS wrapper
 * is tiny. With V8's default young generation (16 MiB semi-spaces here)
 * thousands of dead wrappers, holding ~80 MiB of buffers, wait for a
 * scavenge, and external-memory pressure then forces full mark-compacts.
 * A small young generation scavenges often and frees them while still
 * cheap. Measured with bench/download.ts at 1 GiB: client peak RSS
 * 186-200 -> 161-171 MiB, client CPU 5.4-5.8 -> 3.3-3.6 s.
 */
export const SWARMCDN_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2']
