import assert from 'node:assert/strict';
import {
  bindingFields,
  formatTable,
  packetFigures,
  type PerfResult,
} from '../../perf/harness/perf-result.js';
import type { BindingFacts } from '../../ts/dev/xdp/xdp-binding.js';

describe('perf result', function () {
  it('derives rates, drops and CPU per million packets', function () {
    const f = packetFigures(900_000, 54_000_000, 1_000_000, 2, 0.45);
    assert.equal(f.pps, 450_000);
    assert.equal(f.bps, 216_000_000);
    assert.equal(f.drops, 100_000);
    assert.equal(f.cpuSecondsPerMpkt, 0.5);
  });

  it('prints engine, baseline and ratio side by side', function () {
    const r: PerfResult = {
      mode: 'rxdrop',
      workers: 1,
      ...packetFigures(1e6, 6e7, 1e6, 1, 0.2),
      baseline: { name: 'node-dgram', ...packetFigures(2.5e5, 1.5e7, 1e6, 1, 0.5) },
    };
    const table = formatTable(r);
    assert.match(table, /packets\/s\s+1M\s+250k\s+4x/);
    assert.match(table, /CPU s \/ Mpkt\s+0\.2\s+2\s+0\.1x/);
  });

  it('reports xdpMode, zeroCopy and busyPoll from how the binding came up', function () {
    const facts: BindingFacts = {
      xdpMode: 'native',
      zeroCopy: false,
      queues: 1,
      bindMode: 'copy',
      bindModeWhy: 'veth does not offer xsk-zerocopy',
      needWakeup: true,
      busyPoll: false,
    };
    assert.deepEqual(bindingFields(facts), { xdpMode: 'native', zeroCopy: false, busyPoll: false });
    const busy = bindingFields({
      ...facts,
      busyPoll: {
        usecs: 20,
        budget: 64,
        preferBusyPoll: true,
        napiDeferHardIrqs: { value: 2, previous: 0 },
        groFlushTimeoutNs: { value: null, previous: null, unsupported: 'EACCES' },
        napiIds: [0],
        notes: [],
      },
    });
    assert.deepEqual(busy.busyPoll, {
      usecs: 20,
      budget: 64,
      preferBusyPoll: true,
      napiDeferHardIrqs: 2,
      groFlushTimeoutNs: null,
      napiPolled: false,
    });
    const r: PerfResult = { mode: 'tcp-rr', workers: 1, ...busy };
    assert.match(
      formatTable(r),
      /^xdpnet perf tcp-rr: 1 worker\(s\), XDP native, copy mode, busy polling 20 µs$/m,
    );
  });
});
