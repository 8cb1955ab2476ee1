import assert from 'node:assert/strict';
import { PerformanceObserver, constants, type PerformanceEntry } from 'node:perf_hooks';
import { MemoryPair } from '../../ts/dev/memory/memory-pair.js';
import { MemoryPort } from '../../ts/dev/memory/memory-port.js';
import { VirtualClock } from '../../ts/dev/memory/clock.js';
import { checkFrame, drain, frameLength, sendFrame, seqOf, writeFrame } from './frames.js';
import { PairFixture, settle } from './pair-fixture.js';

describe('memory device: delivery (one thread)', () => {
  const fixture = new PairFixture();
  afterEach(() => fixture.settleAndAudit());

  it('delivers frames byte-exact in order, a to b and b to a', () => {
    const { a, b } = fixture.open({ framesPerPort: 256 });
    const got = { a: [] as number[], b: [] as number[] };
    const bad: string[] = [];
    let seq = 0;
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < 25; i++, seq++) {
        sendFrame(a, 0, seq);
        sendFrame(b, 1, seq);
      }
      a.flush();
      b.flush();
      drain(b, (addr, len) => {
        const s = checkFrame(b.bytes, b.umemOffset + addr, len, 0);
        if (s < 0) bad.push(`b got a bad frame at ${addr}`);
        got.b.push(s);
      });
      drain(a, (addr, len) => {
        const s = checkFrame(a.bytes, a.umemOffset + addr, len, 1);
        if (s < 0) bad.push(`a got a bad frame at ${addr}`);
        got.a.push(s);
      });
      a.reap();
      b.reap();
    }
    const expect = Array.from({ length: 1000 }, (_, i) => i);
    assert.deepEqual(bad, []);
    assert.deepEqual(got.b, expect);
    assert.deepEqual(got.a, expect);
    const ca = a.counters;
    const cb = b.counters;
    assert.equal(ca.txPackets, 1000);
    assert.equal(cb.rxPackets, 1000);
    let bytes = 0;
    for (let i = 0; i < 1000; i++) bytes += frameLength(0, i);
    assert.equal(ca.txBytes, bytes);
    assert.equal(cb.rxBytes, bytes);
  });

  it('moves frames without copying: b receives a’s frame and can forward it in place', () => {
    const { a, b } = fixture.open({ framesPerPort: 64 });
    const sentAt = sendFrame(a, 0, 7);
    a.flush();
    assert.equal(b.receive(), 1);
    assert.equal(b.rxDesc[0], sentAt, 'b sees the very address a wrote');
    // Echo back in place: swap the MACs and send the same frame to a.
    const at = b.umemOffset + b.rxDesc[0];
    const mac = b.bytes.slice(at, at + 6);
    b.bytes.copyWithin(at, at + 6, at + 12);
    b.bytes.set(mac, at + 6);
    assert.ok(b.send(b.rxDesc[0], b.rxDesc[1]));
    b.flush();
    assert.equal(a.receive(), 1);
    assert.equal(a.rxDesc[0], sentAt, 'a gets its own frame back');
    assert.equal(seqOf(a, a.rxDesc[0]), 7);
    assert.equal(a.bytes[a.umemOffset + a.rxDesc[0] + 5], 0x10, 'MACs were swapped by b');
    a.release(a.rxDesc[0]);
    assert.equal(a.audit().ok, true);
  });

  it('returns frames freed by the peer through the return ring', () => {
    const { a, b } = fixture.open({ framesPerPort: 8 });
    for (let i = 0; i < 8; i++) sendFrame(a, 0, i);
    assert.equal(a.allocate(), -1, 'all of a’s frames are out');
    assert.equal(a.counters.allocFailures, 1);
    a.flush();
    assert.equal(a.audit().lent, 8);
    assert.equal(drain(b), 8);
    assert.equal(a.freeFrames, 0, 'nothing home before reap');
    const frame = a.allocate(); // an empty free stack reaps first
    assert.ok(frame >= 0);
    assert.equal(a.freeFrames, 7);
    a.release(frame);
  });

  it('holds back what the wire ring cannot take and sends it later, in order', () => {
    const { a, b } = fixture.open({ framesPerPort: 128, ringSize: 16 });
    for (let i = 0; i < 100; i++) sendFrame(a, 0, i);
    assert.equal(a.flush(), 16);
    assert.equal(a.pendingTx, 84);
    assert.equal(a.flush(), 0, 'ring full');
    const seqs: number[] = [];
    while (seqs.length < 100) {
      drain(b, (addr) => seqs.push(seqOf(b, addr)));
      a.flush();
    }
    assert.deepEqual(
      seqs,
      Array.from({ length: 100 }, (_, i) => i),
    );
  });

  it('refuses double frees and sends of frames the app does not hold', () => {
    // Opened outside the fixture: this pair ends with violations on record, by design.
    const pair = MemoryPair.open({ framesPerPort: 16 });
    const { a, b } = pair;
    const f = a.allocate();
    a.release(f);
    assert.throws(() => a.release(f), { code: 'EINVAL' });
    assert.throws(() => a.send(f + 256, 100), { code: 'EINVAL' });
    assert.throws(() => a.release(1 << 30), { code: 'EINVAL', message: /outside the pair/ });
    const g = a.allocate();
    assert.throws(() => a.send(g + 2000, 100), { code: 'ERANGE' });
    assert.throws(() => a.send(g, 0), { code: 'ERANGE' });
    a.send(g + 256, 100);
    assert.throws(() => a.send(g + 256, 100), { code: 'EINVAL', message: /queued/ });
    settle(pair);
    const audit = a.audit();
    assert.equal(audit.violations, 4);
    assert.equal(audit.ok, false, 'violations make the audit fail');
    assert.deepEqual(audit.problems, ['4 frame moves found a frame out of place']);
    const whole = MemoryPair.audit(pair.config);
    assert.deepEqual(whole.problems, ['port a counted 4 frame violations']);
    assert.equal(whole.a.free, 16, 'the refused calls left the accounting intact');
    assert.ok(b.audit().ok);
  });

  it('audit reports frames the app still holds', () => {
    const { a } = fixture.open({ framesPerPort: 16 });
    const f = a.allocate();
    const audit = a.audit();
    assert.equal(audit.ok, false);
    assert.equal(audit.app, 1);
    assert.equal(a.audit(1).ok, true);
    a.release(f);
  });

  it('waitReadable returns at once when packets wait and times out when none come', () => {
    const { a, b } = fixture.open({ framesPerPort: 16 });
    const t0 = performance.now();
    assert.equal(b.waitReadable(20), false);
    assert.ok(performance.now() - t0 >= 15);
    sendFrame(a, 0, 1);
    a.flush();
    assert.equal(b.waitReadable(1000), true);
  });

  it('opens both ends from the plain config and attaches a virtual clock', () => {
    const clock = VirtualClock.create(5);
    const config = MemoryPair.create({ framesPerPort: 16, clock, faults: { delayMs: 2 } });
    const cloned = structuredClone(config); // what postMessage does
    const a = new MemoryPort(cloned.a);
    const b = new MemoryPort(cloned.b);
    assert.equal(a.clock.now(), 5);
    clock.advance(1.5);
    assert.equal(b.clock.now(), 6.5, 'the clock is shared memory');
    sendFrame(a, 0, 3);
    a.flush();
    assert.equal(b.receive(), 0);
    assert.equal(a.nextEventTime(), 8.5, 'sent at 6.5 with a 2 ms delay');
    clock.advanceTo(8.4);
    a.flush();
    assert.equal(b.receive(), 0, 'not before its time');
    clock.advanceTo(8.5);
    a.flush();
    assert.equal(b.receive(), 1);
    b.release(b.rxDesc[0]);
    a.reap();
    assert.ok(a.audit().ok && b.audit().ok && MemoryPair.audit(cloned).ok);
  });

  it('moves packets without allocating (no young-generation GCs over 1M packets)', async () => {
    const { a, b } = fixture.open({ framesPerPort: 1024, faults: { lossRate: 0.01 } });
    const round = (): void => {
      for (let i = 0; i < 64; i++) a.send(a.allocate() + a.txDataOffset, 64);
      a.flush();
      for (let n = b.receive(); n > 0; n = b.receive()) {
        for (let i = 0; i < n; i++) b.release(b.rxDesc[2 * i]);
      }
      a.reap();
    };
    for (let r = 0; r < 20_000; r++) round(); // warm up: let the JIT settle
    const scavenges = await countScavenges(() => {
      for (let r = 0; r < 16_000; r++) round();
    });
    assert.equal(b.counters.rxPackets + a.counters.lost, 36_000 * 64);
    assert.ok(scavenges <= 2, `${scavenges} scavenges: something allocates per packet`);
  });

  it('rejects bad options with EINVAL', () => {
    assert.throws(() => MemoryPair.create({ frameSize: 3000 }), { code: 'EINVAL' });
    assert.throws(() => MemoryPair.create({ ringSize: 100 }), { code: 'EINVAL' });
    assert.throws(() => MemoryPair.create({ faults: { lossRate: 2 } }), { code: 'EINVAL' });
    assert.throws(() => MemoryPair.create({ faults: { mtu: 10 } }), { code: 'EINVAL' });
    assert.throws(
      () => MemoryPair.create({ faults: { bogus: 1 } as unknown as { lossRate: number } }),
      { code: 'EINVAL', message: /unknown fault/ },
    );
  });

  it('writes frames that the frame checker accepts and rejects', () => {
    const buf = new Uint8Array(2048);
    const len = writeFrame(buf, 0, 1, 42);
    assert.equal(checkFrame(buf, 0, len, 1), 42);
    buf[len - 1] ^= 1;
    assert.equal(checkFrame(buf, 0, len, 1), -1, 'a flipped bit is caught');
  });
});

/** Young-generation collections while `work` runs (a per-packet allocation shows up here). */
async function countScavenges(work: () => void): Promise<number> {
  let count = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) count++;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  await new Promise((resolve) => setImmediate(resolve));
  work();
  await new Promise((resolve) => setTimeout(resolve, 50));
  observer.disconnect();
  return count;
}
