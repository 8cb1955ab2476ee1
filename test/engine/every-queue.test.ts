// The engine serves every queue of the interface (issue 14): on a 4-queue test bed, with fewer
// workers than queues, flows the NIC puts on any queue get their answers. On veth the queue a
// frame arrives on is the peer's TX queue, which the peer kernel picks per flow (a TCP socket's
// random hash, a hash of a UDP datagram's 4-tuple), so the kernel peer's many flows land on all
// four queues; the engine end's per-queue XDP counters (ethtool -S) show that they did, so a
// queue the engine left unread would lose its flows and fail the test.
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestBed } from '../../ts/testbed/testbed.js';
import { nodeXdp } from '../../ts/dev/xdp/native.js';
import { runCommand } from '../../ts/testbed/command.js';
import type { Engine } from '../../ts/runtime/engine.js';
import { startEngineOnBed, stopEngineAndBed } from '../support/engine-on-bed.js';
import { runPeerPython } from '../support/peer-namespace.js';
import { PY_MANY_ECHO } from '../support/py-many-echo.js';
import { PY_UDP_FLOWS } from '../support/py-udp-flows.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** TCP and UDP echo on port 7. */
const app = path.join(here, '../introspection/apps/echo-both.js');
const QUEUES = 4;
/** Flows of each kind per address family: 200 TCP and 200 UDP in all. */
const FLOWS = 100;
/** Seconds a peer client may take; the engine answers in well under one. */
const LIMIT_S = 20;

/** Per RX queue of the engine's end: packets XDP saw, and those it redirected to a socket. */
async function queueCounters(ifname: string): Promise<{ xdp: number[]; redirected: number[] }> {
  const r = await runCommand(['ethtool', '-S', ifname]);
  assert.equal(r.code, 0, r.stderr);
  const xdp = new Array<number>(QUEUES).fill(0);
  const redirected = new Array<number>(QUEUES).fill(0);
  for (const m of r.stdout.matchAll(/rx_queue_(\d+)_xdp_(packets|redirect): (\d+)/g)) {
    (m[2] === 'packets' ? xdp : redirected)[Number(m[1])] = Number(m[3]);
  }
  return { xdp, redirected };
}

interface TcpResult {
  connected: number;
  echoed: number;
  errors: number;
  kinds: Record<string, number>;
}

interface UdpResult {
  answered: number;
  unanswered: number;
  wrong: number;
  sends: number;
}

describe('engine: every queue of a 4-queue interface is served (kernel peer)', function () {
  let bed: TestBed | undefined;
  let engine: Engine | undefined;
  let workers = 1;

  afterEach(async function () {
    try {
      // Steered engines (2 workers) settle lent frames only with every worker running.
      await stopEngineAndBed({ engine, bed, requireFullAudit: workers === 1 });
    } finally {
      engine = undefined;
      bed = undefined;
    }
  });

  for (const w of [1, 2]) {
    it(`answers ${2 * FLOWS} TCP and ${2 * FLOWS} UDP flows with ${w} worker(s), whichever queue they land on`, async function () {
      workers = w;
      bed = await TestBed.up({ queues: QUEUES });
      engine = await startEngineOnBed(bed, app, { workers: w });
      assert.equal(engine.workers, w);
      const tcp: TcpResult[] = [];
      const udp: UdpResult[] = [];
      // TCP first: its SYNs are retransmitted while the peer resolves the engine's address.
      for (const dst of [bed.engineIpv4, bed.engineIpv6]) {
        const args = [dst, '7', String(FLOWS), '0', String(LIMIT_S)];
        tcp.push(JSON.parse(await runPeerPython(bed, PY_MANY_ECHO, args, 60000)) as TcpResult);
      }
      for (const dst of [bed.engineIpv4, bed.engineIpv6]) {
        const args = [dst, '7', String(FLOWS), String(LIMIT_S)];
        udp.push(JSON.parse(await runPeerPython(bed, PY_UDP_FLOWS, args, 60000)) as UdpResult);
      }
      const counters = await queueCounters(bed.engineIf);
      const seen =
        `per-queue XDP packets ${counters.xdp.join('/')}, redirected to the engine ` +
        `${counters.redirected.join('/')}; TCP ${JSON.stringify(tcp)}; UDP ${JSON.stringify(udp)}`;

      // The flows spread over every queue (else this test could not tell a served queue from
      // an unread one), and the engine took frames from every queue.
      for (let q = 0; q < QUEUES; q++) {
        assert.ok(counters.xdp[q] >= 20, `queue ${q} got few packets: ${seen}`);
        assert.ok(counters.redirected[q] > 0, `queue ${q} was not read: ${seen}`);
      }
      for (const t of tcp) {
        assert.deepEqual([t.connected, t.echoed, t.errors], [FLOWS, FLOWS, 0], seen);
      }
      for (const u of udp) {
        assert.deepEqual([u.answered, u.unanswered, u.wrong], [FLOWS, 0, 0], seen);
      }
    });
  }

  it('refuses more workers than queues on a multi-queue interface, attaching nothing', async function () {
    workers = 1;
    bed = await TestBed.up({ queues: QUEUES });
    // The dispatcher reads one queue: 5 workers on 4 queues would lose the flows on 3 of them.
    await assert.rejects(startEngineOnBed(bed, app, { workers: QUEUES + 1 }), (err: Error) => {
      assert.equal((err as NodeJS.ErrnoException).code, 'ENOTSUP');
      assert.match(err.message, /has 4 RX queues/);
      assert.match(err.message, /Run 4 or fewer workers/);
      assert.match(err.message, /ethtool -L/);
      return true;
    });
    assert.equal(nodeXdp().attachedXdpProgram(bed.engineIf), null);
  });
});
