// TCP on the engine against the Linux kernel as the peer (test bed: veth + AF_XDP + netns), the
// edges of a connection's life: the peer going away under a writer, SO_LINGER {1,0} resets,
// TIME-WAIT on the active closer and SO_REUSEADDR, connections reset before accept, a thousand
// concurrent connections, and 20 MB both ways through 1% loss.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestBed } from '../../ts/testbed/testbed.js';
import type { Engine } from '../../ts/runtime/engine.js';
import { startEngineOnBed, stopEngineAndBed } from '../support/engine-on-bed.js';
import { peerRetransSegs, runPeerPython } from '../support/peer-namespace.js';
import { PY_ECHO_SHA } from '../support/py-echo-sha.js';
import { PY_MANY_ECHO } from '../support/py-many-echo.js';
import {
  type EdgeRun,
  scenarioApp,
  scenarioEnv,
  serverHoldsTimeWait,
  serverResets,
  serverSurvivesResetBeforeAccept,
  serverWritesPastClose,
} from './kernel-client-edges.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const echoApp = path.join(here, '../../examples/tcp-echo.js');

describe('tcp-kernel: connection edges with the kernel as peer', function () {
  let bed: TestBed;
  let engine: Engine | undefined;
  let dir: string;
  let result: string;

  async function start(app: string, env: Record<string, string> = {}): Promise<void> {
    Object.assign(process.env, env);
    engine = await startEngineOnBed(bed, app);
  }

  /** The connection edges over IPv4 (transfer.test.ts runs them over IPv6). */
  function edgeRun(): EdgeRun {
    const scenario = (name: string): Promise<void> => start(scenarioApp, scenarioEnv(name, result));
    return { bed, engineAddress: bed.engineIpv4, scenario, result };
  }

  beforeEach(async function () {
    bed = await TestBed.up();
    dir = mkdtempSync(path.join(tmpdir(), 'h16-tcpk-'));
    result = path.join(dir, 'result.json');
  });

  afterEach(async function () {
    const stopping = engine;
    engine = undefined;
    await stopEngineAndBed({ engine: stopping, bed, dir });
  });

  it('gives a server that keeps writing EPIPE or ECONNRESET once the client has closed', async function () {
    await serverWritesPastClose(edgeRun());
  });

  it('resets on resetAndDestroy (SO_LINGER {1,0}): the peer gets ECONNRESET, no TIME-WAIT here', async function () {
    await serverResets(edgeRun());
  });

  it('holds TIME-WAIT as the active closer; relisten needs SO_REUSEADDR', async function () {
    const r = await serverHoldsTimeWait(edgeRun());
    assert.equal(r.connections, 1, JSON.stringify(r)); // the TIME-WAIT connection
  });

  it('keeps accepting when clients reset before their connection is accepted', async function () {
    await serverSurvivesResetBeforeAccept(edgeRun());
  });

  it('holds 1000 concurrent connections from the kernel and serves every one', async function () {
    this.timeout(90000);
    await start(echoApp);
    const out = await runPeerPython(
      bed,
      PY_MANY_ECHO,
      [bed.engineIpv4, '7', '1000', '0', '40'],
      60000,
    );
    const r = JSON.parse(out) as Record<string, number>;
    assert.deepEqual(
      { connected: r.connected, echoed: r.echoed, errors: r.errors, open: r.open },
      { connected: 1000, echoed: 1000, errors: 0, open: 1000 },
    );
  });

  it('moves 20 MB each way with matching SHA-256 through 1% loss', async function () {
    this.timeout(150000);
    await bed.setNetem({ lossPct: 1 });
    await start(echoApp);
    const n = 20 * 1024 * 1024;
    const retrans0 = await peerRetransSegs(bed);
    const out = await runPeerPython(bed, PY_ECHO_SHA, [bed.engineIpv4, '7', String(n)], 120000);
    assert.deepEqual(JSON.parse(out), { match: true, got: n });
    // The loss was real: the kernel had to resend what the filter dropped.
    assert.ok((await peerRetransSegs(bed)) > retrans0, 'the peer retransmitted nothing');
  });
});
