import assert from 'node:assert/strict';
import { formatTable, packetFigures, type PerfResult } from '../../perf/harness/perf-result.js';

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
});
