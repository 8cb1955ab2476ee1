// The pure-stack TCP perf modes on tiny workloads: the result has the standard shape, our stack
// moved every byte (the receiver checks each against the pattern; the mode throws EBADMSG on
// one that differs) and the smoltcp baseline ran with nonzero figures. No timing assertions.
import assert from 'node:assert/strict';
import { runPerf } from '../../perf/run-perf.js';
import type { PerfOptions } from '../../perf/modes/common.js';
import type { MemStreamResult } from '../../perf/modes/mem-tcp-stream.js';
import type { MemRrResult } from '../../perf/modes/mem-tcp-rr.js';

const options: PerfOptions = { seconds: 0.3, size: 18, rate: 0, batch: 64 };

describe('perf: mem-tcp-stream and mem-tcp-rr', function () {
  it('mem-tcp-stream moves 2 MiB in order and runs the smoltcp baseline', async () => {
    const bytes = 2 * 1024 * 1024 + 7; // not a multiple of the segment size or the pattern
    const r = (await runPerf('mem-tcp-stream', { ...options, bytes })) as MemStreamResult;
    assert.equal(r.mode, 'mem-tcp-stream');
    assert.equal(r.workers, 1);
    assert.equal(r.bytes, bytes);
    // 1448 bytes a segment at MTU 1500 with timestamps, and nothing lost in memory.
    assert.ok(r.dataSegments !== undefined && r.dataSegments >= Math.ceil(bytes / 1448));
    for (const key of ['bps', 'seconds', 'cpuNsPerSegment'] as const) assert.ok(r[key]! > 0, key);
    const b = r.baseline;
    assert.equal(b?.name, 'smoltcp');
    assert.equal(b.bytes, bytes);
    assert.ok(b.dataSegments !== undefined && b.dataSegments >= Math.ceil(bytes / 1460));
    for (const key of ['bps', 'seconds', 'cpuNsPerSegment'] as const) assert.ok(b[key]! > 0, key);
    assert.doesNotThrow(() => JSON.parse(JSON.stringify(r)));
  });

  it('mem-tcp-rr answers 1-byte requests and runs the smoltcp baseline', async () => {
    const r = (await runPerf('mem-tcp-rr', options)) as MemRrResult;
    assert.equal(r.mode, 'mem-tcp-rr');
    assert.equal(r.workers, 1);
    assert.ok(r.requests !== undefined && r.requests > 0);
    for (const key of ['rps', 'seconds', 'p50_us', 'p99_us', 'cpuUsPerRequest'] as const) {
      assert.ok(r[key]! > 0, key);
    }
    const b = r.baseline;
    assert.equal(b?.name, 'smoltcp');
    for (const key of ['rps', 'seconds', 'p50_us', 'p99_us', 'cpuUsPerRequest'] as const) {
      assert.ok(b[key]! > 0, key);
    }
  });
});
