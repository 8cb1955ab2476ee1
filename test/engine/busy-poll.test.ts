// Busy polling (issue 14): the engine with `busyPoll` sets SO_PREFER_BUSY_POLL, SO_BUSY_POLL and
// SO_BUSY_POLL_BUDGET on every AF_XDP socket (read back with getsockopt) and the device's
// napi_defer_hard_irqs and gro_flush_timeout, still answers TCP and UDP from the kernel peer over
// IPv4 and IPv6, and puts the two device knobs back to what they were when it stops, or when it
// fails to start. veth gives its AF_XDP sockets no NAPI id, so nothing can busy-poll there: the
// engine sees that with the first packets and puts the knobs back early, saying so; what the
// sockets report is printed for the record.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestBed } from '../../ts/testbed/testbed.js';
import type { Engine } from '../../ts/runtime/engine.js';
import type { BusyPollFacts } from '../../ts/dev/xdp/busy-poll.js';
import { nodeXdp } from '../../ts/dev/xdp/native.js';
import { startEngineOnBed, stopEngineAndBed } from '../support/engine-on-bed.js';
import { runPeerPython } from '../support/peer-namespace.js';
import { PY_MANY_ECHO } from '../support/py-many-echo.js';
import { PY_UDP_FLOWS } from '../support/py-udp-flows.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** TCP and UDP echo on port 7. */
const app = path.join(here, '../introspection/apps/echo-both.js');
const FLOWS = 20;
const LIMIT_S = 20;

function knobs(ifname: string): [number, number] {
  const read = (knob: string) =>
    Number(fs.readFileSync(`/sys/class/net/${ifname}/${knob}`, 'utf8').trim());
  return [read('napi_defer_hard_irqs'), read('gro_flush_timeout')];
}

function setKnobs(ifname: string, defer: number, timeout: number): void {
  fs.writeFileSync(`/sys/class/net/${ifname}/napi_defer_hard_irqs`, String(defer));
  fs.writeFileSync(`/sys/class/net/${ifname}/gro_flush_timeout`, String(timeout));
}

/** Every TCP connection and UDP flow from the kernel peer, over IPv4 and IPv6, is echoed. */
async function assertEchoes(bed: TestBed): Promise<void> {
  for (const dst of [bed.engineIpv4, bed.engineIpv6]) {
    const tcpArgs = [dst, '7', String(FLOWS), '0', String(LIMIT_S)];
    const tcp = JSON.parse(await runPeerPython(bed, PY_MANY_ECHO, tcpArgs, 60000)) as {
      connected: number;
      echoed: number;
      errors: number;
    };
    assert.deepEqual([tcp.connected, tcp.echoed, tcp.errors], [FLOWS, FLOWS, 0], `TCP to ${dst}`);
    const udpArgs = [dst, '7', String(FLOWS), String(LIMIT_S)];
    const udp = JSON.parse(await runPeerPython(bed, PY_UDP_FLOWS, udpArgs, 60000)) as {
      answered: number;
      unanswered: number;
      wrong: number;
    };
    assert.deepEqual([udp.answered, udp.unanswered, udp.wrong], [FLOWS, 0, 0], `UDP to ${dst}`);
  }
}

describe('engine: busy polling on the test bed', function () {
  let bed: TestBed | undefined;
  let engine: Engine | undefined;
  let fullAudit = true;

  afterEach(async function () {
    try {
      await stopEngineAndBed({ engine, bed, requireFullAudit: fullAudit });
    } finally {
      engine = undefined;
      bed = undefined;
    }
  });

  it('sets the socket options and device knobs, echoes TCP and UDP, and restores the knobs on stop', async function () {
    bed = await TestBed.up();
    // Values of our own beforehand, so that "restored" cannot pass by reading the defaults.
    setKnobs(bed.engineIf, 1, 5000);
    engine = await startEngineOnBed(bed, app, { busyPoll: true });
    const before = engine.xdp.busyPoll as BusyPollFacts;
    assert.ok(before, 'busy polling reported');
    assert.deepEqual(
      [before.usecs, before.budget, before.preferBusyPoll],
      [20, 64, true],
      'the defaults, as getsockopt reads them back',
    );
    assert.equal(before.napiIds.length, 1);
    // Set, unless a packet from the peer already showed that there is no NAPI to poll.
    if (!before.notes.some((n) => /put back/.test(n))) {
      assert.deepEqual(knobs(bed.engineIf), [2, 200000]);
      assert.deepEqual(before.napiDeferHardIrqs, { value: 2, previous: 1 });
      assert.deepEqual(before.groFlushTimeoutNs, { value: 200000, previous: 5000 });
    }

    await assertEchoes(bed);

    const after = engine.xdp.busyPoll as BusyPollFacts;
    process.stdout.write(
      `      busy poll on ${bed.engineIf}: ${JSON.stringify(after)}; bind ${engine.xdp.bindMode} ` +
        `(${engine.xdp.bindModeWhy})\n`,
    );
    assert.ok(after.napiIds.every((id) => Number.isInteger(id) && id >= 0));
    if (after.napiIds[0] === 0) {
      // veth: its XDP RX queue has no NAPI id, so nothing can busy-poll its NAPI. The engine saw
      // that with the first packets and put the knobs back (deferring would only delay packets)
      // and stopped the data path's idle syscalls; the socket options stay as set.
      const notes = after.notes.join('\n');
      assert.match(notes, /received \d+ packets but has no NAPI id/);
      assert.match(notes, /put back, and the data path's idle syscalls stopped/);
      assert.deepEqual(knobs(bed.engineIf), [1, 5000]);
      assert.deepEqual(after.napiDeferHardIrqs, { value: 1, previous: 1 });
      assert.equal(after.usecs, 20);
    } else {
      assert.deepEqual(knobs(bed.engineIf), [2, 200000]);
    }

    await engine.stop();
    assert.deepEqual(knobs(bed.engineIf), [1, 5000], 'the knobs are back as they were');
    // The report outlives the engine.
    assert.equal((engine.xdp.busyPoll as BusyPollFacts).usecs, 20);
    engine = undefined;
  });

  it('sets each socket of a multi-queue engine as asked', async function () {
    fullAudit = false; // steered engines settle lent frames only with every worker running
    bed = await TestBed.up({ queues: 2 });
    const [defer0, timeout0] = knobs(bed.engineIf);
    engine = await startEngineOnBed(bed, app, {
      workers: 2,
      busyPoll: { usecs: 50, budget: 16, deferHardIrqs: 3, groFlushTimeoutNs: 100000 },
    });
    const busy = engine.xdp.busyPoll as BusyPollFacts;
    assert.deepEqual([busy.usecs, busy.budget, busy.preferBusyPoll], [50, 16, true]);
    assert.equal(busy.napiIds.length, 2);
    if (!busy.notes.some((n) => /put back/.test(n))) {
      assert.deepEqual(knobs(bed.engineIf), [3, 100000]);
    }
    await assertEchoes(bed);
    await engine.stop();
    engine = undefined;
    assert.deepEqual(knobs(bed.engineIf), [defer0, timeout0]);
  });

  it('restores the knobs when the engine fails to start', async function () {
    bed = await TestBed.up();
    setKnobs(bed.engineIf, 0, 0);
    await assert.rejects(
      startEngineOnBed(bed, path.join(here, 'no-such-app.js'), { busyPoll: 30 }),
    );
    assert.deepEqual(knobs(bed.engineIf), [0, 0]);
    assert.equal(nodeXdp().attachedXdpProgram(bed.engineIf), null);
  });
});
