// Software RSS on the test bed: the kernel peer floods 1,000 UDP flows at one queue; the
// dispatcher thread hashes each frame and hands it to the worker the RETA names. Every test
// checks engine-wide frame accounting afterwards.
import assert from 'node:assert/strict';
import { TestBed } from '../../ts/testbed/testbed.js';
import { DispatchBinding } from '../../ts/dev/dispatch/dispatch-binding.js';
import { RssWorkers } from '../../ts/worker/rss-workers.js';
import type { FlowRecords } from '../../ts/worker/rss-loop-spec.js';
import {
  badSequences,
  flood,
  flowTuple,
  FLOWS,
  PORT,
  seenOn,
  SRC_PORT_BASE,
} from '../support/peer-flows.js';
import { waitUntil } from '../support/wait-until.js';
import { bindingAddresses, closeWorkersAndBed } from '../support/workers-on-bed.js';

describe('software RSS dispatcher on the test bed (kernel peer)', function () {
  let bed: TestBed;
  let binding: DispatchBinding;
  let workers: RssWorkers;

  beforeEach(async function () {
    bed = await TestBed.up({ staticNeighbours: true });
    binding = DispatchBinding.open({ ...bindingAddresses(bed), workers: 2 });
    workers = await RssWorkers.start(binding);
  });

  afterEach(async function () {
    await closeWorkersAndBed(workers, binding, bed);
  });

  async function finish(expected: number, loops: Promise<unknown>): Promise<FlowRecords[]> {
    await waitUntil('every packet to reach a worker', async () => {
      return (await workers.progress()).rxPackets >= expected;
    });
    await workers.stop();
    await loops;
    return workers.records();
  }

  async function assertAccounted(): Promise<void> {
    const audit = await workers.audit();
    assert.ok(audit.ok, `frame accounting: ${audit.problems.join('; ')}`);
    assert.equal(audit.frames, 4096 + 2 * 1024);
  }

  it('lands each of 1,000 UDP flows on exactly one worker, the one the Toeplitz hash and RETA name', async function () {
    const COUNT = 20000;
    const loops = workers.run(() => ({ mode: 'flowrecord', port: PORT, maxSeq: COUNT }));
    const sent = await flood(bed, COUNT, 20000);
    assert.equal(sent.sent, COUNT);
    const records = await finish(COUNT, loops);
    const reports = await loops;
    for (let p = SRC_PORT_BASE; p < SRC_PORT_BASE + FLOWS; p++) {
      const owner = binding.ownerOf(flowTuple(bed, p));
      assert.deepEqual(seenOn(records, p), [owner], `flow from port ${p}`);
    }
    assert.deepEqual(badSequences(records, COUNT), { lost: 0, doubled: 0 });
    const perWorker = reports.map((r) => r.loop.recorded);
    assert.equal(perWorker[0] + perWorker[1], COUNT);
    // 1,000 flows over 64 buckets each: both workers carry a fair share.
    assert.ok(Math.min(...perWorker) > COUNT / 4, `split ${perWorker}`);
    for (const r of reports) assert.equal(r.loop.corrupt + r.loop.notUdp, 0);
    const stats = binding.stats();
    assert.deepEqual(stats.dropped, [0, 0]);
    assert.deepEqual(stats.delivered, perWorker);
    await assertAccounted();
  });

  it('resizes from 2 workers to 1 and back under live traffic without losing a packet; open flows stay on their owner', async function () {
    const COUNT = 60000;
    const loops = workers.run(() => ({ mode: 'flowrecord', port: PORT, maxSeq: COUNT }));
    const load = flood(bed, COUNT, 15000);
    // Half the flows are registered as open (a UDP "connection" the app tracks); the rest may move.
    const openPorts = Array.from({ length: FLOWS / 2 }, (_, i) => SRC_PORT_BASE + i);
    const firstOwner = new Map(openPorts.map((p) => [p, binding.ownerOf(flowTuple(bed, p))]));
    const openFlows = () => openPorts.map((p) => binding.openFlow(flowTuple(bed, p)));
    await new Promise((r) => setTimeout(r, 1000));
    const pinnedDown = await binding.resize(1, openFlows());
    assert.equal(binding.activeWorkers, 1);
    await new Promise((r) => setTimeout(r, 1000));
    await binding.resize(2, openFlows());
    const sent = await load;
    assert.equal(sent.sent, COUNT);
    const records = await finish(COUNT, loops);
    assert.deepEqual(badSequences(records, COUNT), { lost: 0, doubled: 0 });
    assert.deepEqual(binding.stats().dropped, [0, 0]);
    // Open flows of worker 1's buckets were pinned there when it left the RETA.
    assert.ok(pinnedDown > 100, `${pinnedDown} flows pinned`);
    assert.ok(binding.stats().pinned > 0);
    for (const p of openPorts) {
      assert.deepEqual(seenOn(records, p), [firstOwner.get(p)], `open flow from port ${p}`);
    }
    // The flows nobody registered did move: some were seen on both workers.
    let moved = 0;
    for (let p = SRC_PORT_BASE + FLOWS / 2; p < SRC_PORT_BASE + FLOWS; p++) {
      if (seenOn(records, p).length === 2) moved++;
    }
    assert.ok(moved > 50, `${moved} unregistered flows moved`);
    for (const p of openPorts) await binding.closeFlow(flowTuple(bed, p));
    assert.equal(binding.steering.pinned, 0);
    await assertAccounted();
  });

  it('refuses a second data path on the dispatched socket', async function () {
    const { nodeXdp } = await import('../../ts/dev/xdp/native.js');
    const buffers = () => new Uint32Array(new SharedArrayBuffer(64));
    assert.throws(
      () =>
        nodeXdp().XskPort.open(binding.xdp.sockets[0].id, {
          rx: buffers(),
          tx: buffers(),
          fill: buffers(),
          comp: buffers(),
        }),
      (e: Error & { code?: string }) => e.code === 'EBUSY',
    );
    await assertAccounted();
  });
});
