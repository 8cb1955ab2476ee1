// perf http, https and express on short runs: both sides ran the same app module (named in the
// result, top level and baseline), wrk got answers from both with no socket error and no non-2xx.
// No timing assertions.
import assert from 'node:assert/strict';
import { runPerf } from '../../perf/run-perf.js';
import type { PerfOptions } from '../../perf/modes/common.js';
import type { TcpPerfResult } from '../../perf/modes/tcp-common.js';

const options: PerfOptions = { seconds: 1, size: 18, rate: 0, batch: 64 };

describe('perf: http, https and express run one app module on both sides', function () {
  this.timeout(120_000);

  for (const [mode, app] of [
    ['http', 'perf/apps/http-app.js'],
    ['https', 'perf/apps/https-app.js'],
    ['express', 'perf/apps/express-app.js'],
  ] as const) {
    it(`${mode}: ${app} on the engine and on the kernel`, async () => {
      const r = (await runPerf(mode, options)) as TcpPerfResult;
      assert.equal(r.mode, mode);
      assert.equal(r.app, app);
      assert.equal(r.baseline?.app, app, 'the baseline ran the same file');
      assert.equal(r.baseline?.name, `node-${mode}`);
      for (const side of [r, r.baseline!]) {
        assert.equal(side.errors, 0, 'no socket errors, no non-2xx answers');
        assert.ok((side.rps ?? 0) > 0 && (side.packets ?? 0) > 0, `${mode} answered`);
      }
    });
  }
});
