import { expect } from 'chai'
import { createSwarmNode, type SwarmNode } from '../../src/net/swarm-node.js'
import { OverlayService } from '../../src/net/overlay-service.js'
import { waitFor } from '../helpers/wait-for.js'

describe('net/overlay: the supernode policy\'s upload input is measured', function () {
  this.timeout(30_000)
  let node: SwarmNode | undefined
  let overlay: OverlayService | undefined
  afterEach(async () => {
    await overlay?.stop()
    await node?.stop()
    overlay = undefined
    node = undefined
  })

  it('spare upload is the configured capacity less what the upload gate let through lately (2 MB/s capacity, 0.5 MB/s in use: 1.5 MB/s)', async () => {
    node = await createSwarmNode({ listenMultiaddrs: ['/ip4/127.0.0.1/tcp/0'] })
    const t0 = performance.now()
    overlay = new OverlayService(node, {
      role: 'leaf',
      uploadCapacityBytesPerSec: 2_000_000,
      // The gate's counter, as if it let 500 000 bytes/s through.
      uploadedBytes: () => Math.floor((performance.now() - t0) * 500)
    })
    expect(overlay.policyInputs().spareUploadBytesPerSec).to.equal(2_000_000)
    await overlay.start()
    // The load meter samples once a second; two samples give a rate.
    await waitFor('spare upload near 1.5 MB/s', () => Math.abs(overlay!.policyInputs().spareUploadBytesPerSec - 1_500_000) < 100_000, 15_000)
  })

  it('without a configured capacity, a peer that has uploaded nothing spares nothing (it is not promoted on a guess)', async () => {
    node = await createSwarmNode({ listenMultiaddrs: ['/ip4/127.0.0.1/tcp/0'] })
    overlay = new OverlayService(node, { role: 'leaf', uploadedBytes: () => 0 })
    const started = performance.now()
    await overlay.start()
    await waitFor('two load samples', () => performance.now() - started > 2500, 10_000)
    expect(overlay.policyInputs().spareUploadBytesPerSec).to.equal(0)
  })
})
