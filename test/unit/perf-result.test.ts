import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  bindingFields,
  formatTable,
  packetFigures,
  resultLine,
  type PerfResult,
} from '../../perf/harness/perf-result.js';
import type { BindingFacts } from '../../ts/dev/xdp/xdp-binding.js';
import { packageRoot } from '../../ts/dev/xdp/native.js';
import { validate, type Schema } from '../support/json-schema.js';

const schema = JSON.parse(
  fs.readFileSync(path.join(packageRoot, 'perf/result.schema.json'), 'utf8'),
) as Schema;

const rxdropResult = (): PerfResult => ({
  mode: 'rxdrop',
  workers: 1,
  xdpMode: 'native',
  zeroCopy: false,
  busyPoll: false,
  ...packetFigures(1e6, 6e7, 1e6, 1, 0.2),
  baseline: { name: 'node-dgram', workers: 1, ...packetFigures(2.5e5, 1.5e7, 1e6, 1, 0.5) },
});

describe('perf result', function () {
  it('derives rates, drops and CPU per million packets', function () {
    const f = packetFigures(900_000, 54_000_000, 1_000_000, 2, 0.45);
    assert.equal(f.pps, 450_000);
    assert.equal(f.bps, 216_000_000);
    assert.equal(f.drops, 100_000);
    assert.equal(f.cpuSecondsPerMpkt, 0.5);
  });

  it('prints engine, baseline and ratio side by side', function () {
    const table = formatTable(resultLine(rxdropResult()));
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
      multiBuffer: false,
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
    const r: PerfResult = { mode: 'tcp-rr', workers: 1, seconds: 1, pps: 2000, ...busy };
    const line = resultLine(r);
    assert.deepEqual(validate(schema, line), []);
    assert.match(
      formatTable(line),
      /^xdpnet perf tcp-rr: 1 worker\(s\), XDP native, copy mode, busy polling 20 µs$/m,
    );
  });

  it("reports the engine's rss mode, which the schema knows", function () {
    const r: PerfResult = { mode: 'tcp-rr', workers: 2, seconds: 1, pps: 10, rss: 'follow' };
    const line = resultLine(r);
    assert.equal(line.rss, 'follow');
    assert.deepEqual(validate(schema, line), []);
    assert.notDeepEqual(validate(schema, { ...line, rss: 'hardware' }), []);
  });

  it('makes a line of the schema: common fields first, nulls where they do not apply, ratios', function () {
    const line = resultLine(rxdropResult());
    assert.deepEqual(validate(schema, line), []);
    assert.deepEqual(Object.keys(line).slice(0, 9), [
      'mode',
      'workers',
      'seconds',
      'pps',
      'bps',
      'cpuSecondsPerMpkt',
      'xdpMode',
      'zeroCopy',
      'busyPoll',
    ]);
    assert.equal(line.baseline?.xdpMode, null, 'a kernel baseline has no XDP');
    assert.equal(line.baseline?.busyPoll, null, 'nor busy polling');
    assert.deepEqual(line.ratios, { pps: 4, bps: 4, cpuSecondsPerMpkt: 0.1 });
  });

  it('gives a request mode its latency ratios, and a line without a baseline null ones', function () {
    const tcp: PerfResult = {
      mode: 'tcp-rr',
      workers: 1,
      seconds: 1,
      pps: 2000,
      rps: 1000,
      p99_us: 50,
      baseline: { name: 'node-net-echo', workers: 1, seconds: 1, pps: 1000, rps: 500, p99_us: 100 },
    };
    const line = resultLine(tcp);
    assert.deepEqual(validate(schema, line), []);
    assert.deepEqual(line.ratios, {
      pps: 2,
      bps: null,
      cpuSecondsPerMpkt: null,
      rps: 2,
      p99_us: 0.5,
    });
    const alone = resultLine({ ...rxdropResult(), baseline: undefined });
    assert.deepEqual(validate(schema, alone), []);
    assert.equal(alone.baseline, null);
    assert.equal(alone.ratios, null);
  });

  it('refuses a mode result without the figures every line has', function () {
    const noPps = rxdropResult();
    delete noPps.pps;
    assert.throws(() => resultLine(noPps), /gave no pps/);
    const r = rxdropResult();
    delete r.baseline!.workers;
    assert.throws(() => resultLine(r), /rxdrop baseline gave no workers/);
  });

  it('the schema check finds what breaks it', function () {
    const line = resultLine(rxdropResult()) as Record<string, unknown>;
    const problems = (changes: Record<string, unknown>) =>
      validate(schema, { ...line, ...changes }).join('\n');
    assert.match(problems({ pps: undefined }), /\$: no 'pps'|\$\.pps/);
    assert.match(problems({ mode: 'nope' }), /\$\.mode: "nope" is not one of/);
    assert.match(problems({ surprise: 1 }), /unexpected 'surprise'/);
    assert.match(problems({ zeroCopy: 'yes' }), /\$\.zeroCopy/);
    assert.match(problems({ busyPoll: true }), /\$\.busyPoll/);
    assert.match(problems({ busyPoll: { usecs: 20 } }), /\$\.busyPoll/);
    assert.match(problems({ workers: 1.5 }), /\$\.workers/);
    assert.match(problems({ baseline: { name: 'x' } }), /\$\.baseline/);
  });
});
