// The live frame account of a running engine (issue 13): engine.stats() and `xdpnet netstat -s`
// say where every UMEM frame is (free, fill ring, RX ring, the app, queued, TX ring, completion
// ring) while the kernel peer sends traffic, and the places add up to the frames there are; for
// one worker, and per worker for two steered workers on a two-queue bed.
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestBed } from '../../ts/testbed/testbed.js';
import { Engine } from '../../ts/runtime/engine.js';
import { netstatCounters } from '../../ts/runtime/control-counters.js';
import type { FrameAccount } from '../../ts/dev/frame-device.js';

const echoApp = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../examples/udp-echo.js',
);

// 20,000 datagrams at the engine as fast as the kernel sends them, answers not awaited.
const PY_BLAST = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(20000): s.sendto(b"x" * 512, (sys.argv[1], 7))
`;

const PLACES = ['free', 'fill', 'rx', 'app', 'txQueued', 'tx', 'completion'] as const;

function checkAccount(a: FrameAccount | undefined, when: string): FrameAccount {
  assert.ok(a !== undefined, `${when}: the worker reports its frames`);
  for (const p of PLACES) assert.ok(Number.isInteger(a[p]) && a[p] >= 0, `${when}: ${p} ${a[p]}`);
  const sum = PLACES.reduce((n, p) => n + a[p], 0);
  assert.equal(sum, a.frames, `${when}: every frame in exactly one place ${JSON.stringify(a)}`);
  assert.equal(a.violations, 0, `${when}: no frame moved from the wrong place`);
  return a;
}

describe('engine: the live frame account', function () {
  this.timeout(60_000);
  let bed: TestBed;
  let engine: Engine | undefined;

  before(async function () {
    bed = await TestBed.up();
    engine = await Engine.start({
      ifname: bed.engineIf,
      ipv4: [`${bed.engineIpv4}/${bed.ipv4Prefix}`],
      ipv6: [`${bed.engineIpv6}/${bed.ipv6Prefix}`],
      app: echoApp,
      workers: 1,
    });
  });

  after(async function () {
    try {
      const audit = await engine?.stop();
      if (audit) assert.ok(audit.ok, audit.problems.join('; '));
    } finally {
      engine = undefined;
      await bed?.down();
    }
  });

  it('finds every frame in one place, idle and under a UDP burst, in stats and netstat', async function () {
    const idle = checkAccount((await engine!.stats())[0].frames, 'idle');
    assert.ok(idle.fill > 0, 'an idle engine keeps frames in the fill ring');
    const blast = bed.exec(['python3', '-c', PY_BLAST, bed.engineIpv4], { timeoutMs: 30_000 });
    const seen: FrameAccount[] = [];
    for (let i = 0; i < 20; i++) {
      seen.push(checkAccount((await engine!.stats())[0].frames, `during the burst (${i})`));
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal((await blast).code, 0);
    const after = checkAccount((await engine!.stats())[0].frames, 'after');
    assert.equal(after.frames, idle.frames);
    // netstat -s shows the same account in its Device section.
    const device = netstatCounters((await engine!.stats())[0]).Device;
    for (const p of PLACES) {
      const key = `Frames${p.charAt(0).toUpperCase()}${p.slice(1)}`;
      assert.equal(typeof device[key], 'number', key);
    }
    assert.equal(device.FramesTotal, idle.frames);
  });
});

describe('engine: the live frame account of steered workers', function () {
  this.timeout(60_000);
  let bed: TestBed;
  let engine: Engine | undefined;

  before(async function () {
    bed = await TestBed.up({ queues: 2 });
    engine = await Engine.start({
      ifname: bed.engineIf,
      ipv4: [`${bed.engineIpv4}/${bed.ipv4Prefix}`],
      app: echoApp,
      workers: 2,
    });
  });

  after(async function () {
    try {
      await engine?.stop(); // steered engines are not audited at stop (engine.ts)
    } finally {
      engine = undefined;
      await bed?.down();
    }
  });

  it('finds every frame of each worker in one place, idle and under a UDP burst', async function () {
    assert.equal(engine!.mode, 'steered');
    const idle = (await engine!.stats()).map((s, w) => checkAccount(s.frames, `worker ${w} idle`));
    const blast = bed.exec(['python3', '-c', PY_BLAST, bed.engineIpv4], { timeoutMs: 30_000 });
    for (let i = 0; i < 20; i++) {
      const stats = await engine!.stats();
      stats.forEach((s, w) => checkAccount(s.frames, `worker ${w} during the burst (${i})`));
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal((await blast).code, 0);
    const after = await engine!.stats();
    after.forEach((s, w) => {
      assert.equal(checkAccount(s.frames, `worker ${w} after`).frames, idle[w].frames);
      assert.ok(s.rings !== undefined, `worker ${w} reports its rings`);
    });
  });
});
