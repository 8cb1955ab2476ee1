// The short seeded fuzz pass CI runs (issue 13; `xdpnet perf fuzz` runs the long one): 150,000
// frames of `xdpnet-peer fuzz` (seed 1) in two passes (100,000, then 50,000) at the echo app while
// a normal client in the peer namespace exchanges data over TCP and UDP and checks every echo.
// Then the campaign's checks (perf/harness/fuzz-campaign.ts): the engine serves, no connection is
// left, RSS and the worker's heap after the second pass are within 10% of the first, every frame
// is accounted for, and drops are counted by reason.
import assert from 'node:assert/strict';
import { TestBed } from '../../ts/testbed/testbed.js';
import { runFuzzCampaign } from '../../perf/harness/fuzz-campaign.js';

describe('engine: a seeded fuzz pass with a normal client', function () {
  this.timeout(180_000);
  let bed: TestBed | undefined;

  after(async function () {
    await bed?.down();
  });

  it('serves, stays flat, accounts for every frame and counts drops by reason', async function () {
    bed = await TestBed.up();
    const report = await runFuzzCampaign(bed, {
      seed: 1,
      firstCount: 100_000,
      count: 50_000,
      passes: 2,
      rate: 25_000,
    });
    const failed = report.checks.filter((c) => !c.ok);
    assert.deepEqual(
      failed.map((c) => `${c.name}: ${c.detail}`),
      [],
      JSON.stringify(report.passes.map((p) => ({ ...p, fuzz: undefined }))),
    );
    assert.deepEqual(
      report.checks.map((c) => c.name),
      ['serves', 'client', 'sockets', 'memory', 'ledger', 'drops', 'frames'],
    );
    // The fuzzer sent what it was asked, most of it to the engine, of every class.
    for (const p of report.passes) {
      const count = p.pass === 1 ? 100_000 : 50_000;
      assert.equal(p.fuzz.sent, count);
      assert.ok(p.fuzz.toEngine > count * 0.7, `${p.fuzz.toEngine} frames to the engine`);
      for (const [cls, n] of Object.entries(p.fuzz.classes)) assert.ok(n > 0, cls);
      assert.ok(p.fuzz.sessions.established > 0, 'TCP sessions for in-window injection');
    }
    assert.ok(report.client!.tcpMessages > 0 && report.client!.udpEchoed > 0);
  });
});
