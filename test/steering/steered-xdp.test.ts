// Flow steering on the test bed (queues >= workers): a 2-queue veth, 2 workers each owning one
// queue's AF_XDP socket. veth picks the RX queue by the sending socket's flow hash, not by our
// Toeplitz key, so some packets land on the worker that does not own their flow and must be
// forwarded to the owner through an inter-worker ring. Every flow must end on the worker the
// hash names, every packet exactly once, and frame accounting must hold on both workers.
import assert from 'node:assert/strict';
import { TestBed } from '../../ts/testbed/testbed.js';
import { XdpBinding } from '../../ts/dev/xdp/xdp-binding.js';
import { SteeredWorkers } from '../../ts/worker/steered-workers.js';
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

describe('flow steering on the test bed (2 queues, 2 workers, kernel peer)', function () {
  let bed: TestBed;
  let binding: XdpBinding;
  let workers: SteeredWorkers;

  beforeEach(async function () {
    bed = await TestBed.up({ queues: 2, staticNeighbours: true });
    binding = XdpBinding.open(bindingAddresses(bed));
    assert.equal(binding.sockets.length, 2, 'the bed has two queues');
    workers = await SteeredWorkers.start(binding);
  });

  afterEach(async function () {
    await closeWorkersAndBed(workers, binding, bed);
  });

  it('lands each of 1,000 UDP flows on the worker the hash names, whichever queue veth picked, every packet once', async function () {
    const COUNT = 20000;
    const loops = workers.run(() => ({ mode: 'flowrecord', port: PORT, maxSeq: COUNT }));
    // A moderate rate: on 2 shared cores a worker off the CPU for long lets its fill ring run dry.
    const sent = await flood(bed, COUNT, 10000);
    assert.equal(sent.sent, COUNT);
    await waitUntil(
      'every packet to reach a worker',
      async () => (await workers.progress()).rxPackets >= COUNT,
      async () => {
        const stats = binding.sockets.map((s) => s.stats());
        return (
          `${JSON.stringify(await workers.progress())}; kernel drops per queue: ` +
          stats
            .map(
              (k) =>
                `${k.rxDropped} dropped, ${k.rxFillRingEmptyDescs} fill empty, ${k.rxRingFull} rx full`,
            )
            .join(' / ')
        );
      },
    );
    await workers.stop();
    const reports = await loops;
    const records = await workers.records();

    for (let p = SRC_PORT_BASE; p < SRC_PORT_BASE + FLOWS; p++) {
      const owner = workers.owner.ownerOfTuple(flowTuple(bed, p));
      assert.deepEqual(seenOn(records, p), [owner], `flow from port ${p}`);
    }
    assert.deepEqual(badSequences(records, COUNT), { lost: 0, doubled: 0 });
    for (const r of reports) assert.equal(r.loop.corrupt + r.loop.notUdp + r.loop.outOfRange, 0);
    const recorded = reports.map((r) => r.loop.recorded);
    assert.equal(recorded[0] + recorded[1], COUNT);
    assert.ok(Math.min(...recorded) > COUNT / 4, `split ${recorded}`);

    // veth spread the flows over both queues by its own hash, so both workers forwarded some.
    const queue = reports.map((r) => r.queuePackets);
    const forwarded = reports.map((r) => r.steering.forwarded);
    assert.equal(queue[0] + queue[1], COUNT);
    assert.ok(Math.min(...queue) > 0, `queues got ${queue}`);
    assert.ok(forwarded[0] > 0 && forwarded[1] > 0, `forwarded ${forwarded}`);
    assert.equal(reports[0].steering.adopted, forwarded[1]);
    assert.equal(reports[1].steering.adopted, forwarded[0]);
    assert.equal(reports[0].steering.forwardDrops + reports[1].steering.forwardDrops, 0);
    for (const r of reports) {
      assert.equal(r.steering.kept + r.steering.forwarded, r.queuePackets);
      assert.equal(r.steering.kept + r.steering.adopted, r.rxPackets);
    }
    process.stderr.write(
      `      queues ${queue.join('/')}, forwarded ${forwarded.join('/')} ` +
        `(${((100 * (forwarded[0] + forwarded[1])) / COUNT).toFixed(1)}%), delivered ${recorded.join('/')}\n`,
    );

    const audits = await workers.audit();
    for (const a of audits) {
      assert.ok(a.ok, `worker ${a.steering.worker}: ${a.problems.join('; ')}`);
      assert.equal(a.device.frames, 8192);
      assert.equal(a.steering.counters.reclaimed, a.steering.counters.forwarded);
    }
  });
});
