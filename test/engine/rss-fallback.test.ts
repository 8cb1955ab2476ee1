// The engine's rss option on veth, which reports no RSS key or table (ETHTOOL_GRSSH and GRXFH:
// EOPNOTSUPP): 'follow' and 'program' are refused with ENOTSUP before anything is attached,
// telling the user to use 'software'; the default falls back to software, says why in
// engine.rss, and serves traffic from the kernel peer with its own key and RETA.
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestBed } from '../../ts/testbed/testbed.js';
import { nodeXdp } from '../../ts/dev/xdp/native.js';
import type { Engine } from '../../ts/runtime/engine.js';
import { startEngineOnBed, stopEngineAndBed } from '../support/engine-on-bed.js';
import { runPeerPython } from '../support/peer-namespace.js';
import { PY_UDP_ECHO_CLIENT } from '../support/py-udp-echo.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** TCP and UDP echo on port 7. */
const app = path.join(here, '../introspection/apps/echo-both.js');

describe('engine: rss on veth, which reports no RSS', function () {
  let bed: TestBed | undefined;
  let engine: Engine | undefined;

  before(async function () {
    bed = await TestBed.up({ queues: 2 });
  });

  afterEach(async function () {
    try {
      // Steered engines (2 workers) settle lent frames only with every worker running.
      await stopEngineAndBed({ engine, bed: undefined, requireFullAudit: false });
    } finally {
      engine = undefined;
    }
  });

  after(async function () {
    await bed?.down();
  });

  for (const mode of ['follow', 'program'] as const) {
    it(`rss: '${mode}' is refused with ENOTSUP, naming veth and 'software', before anything is set up`, async function () {
      await assert.rejects(
        startEngineOnBed(bed!, app, { workers: 2, rss: mode }),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, 'ENOTSUP');
          assert.match(
            err.message,
            new RegExp(
              `^rss: '${mode}' on ${bed!.engineIf}: veth does not report its RSS key and ` +
                "indirection table \\(ETHTOOL_GRSSH: EOPNOTSUPP\\); use rss: 'software'",
            ),
          );
          return true;
        },
      );
      assert.equal(nodeXdp().attachedXdpProgram(bed!.engineIf), null, 'nothing attached');
    });
  }

  it('by default falls back to software, says so, and serves the kernel peer', async function () {
    engine = await startEngineOnBed(bed!, app, { workers: 2 });
    assert.equal(engine.mode, 'steered');
    const rss = engine.rss;
    assert.equal(rss.mode, 'software');
    assert.equal(rss.requested, 'default');
    assert.match(rss.why, /^veth does not report its RSS key .*, so the engine uses its own/);
    assert.deepEqual([rss.keyBytes, rss.retaSize], [40, 128]);
    for (const dst of [bed!.engineIpv4, bed!.engineIpv6]) {
      const out = await runPeerPython(bed!, PY_UDP_ECHO_CLIENT, [dst, '16,200,1000'], 30000);
      assert.deepEqual(JSON.parse(out), { ok: 3, bad: 0, lost: 0 });
    }
  });

  it("rss: 'software' when asked", async function () {
    engine = await startEngineOnBed(bed!, app, { workers: 1, rss: 'software' });
    assert.equal(engine.mode, 'xdp');
    assert.deepEqual([engine.rss.mode, engine.rss.requested], ['software', 'software']);
    assert.match(engine.rss.why, /^asked for: the engine uses its own Toeplitz key/);
  });
});
