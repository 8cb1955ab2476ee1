// Ring buffers under the send and receive buffers, the out-of-order queue, and receive buffer
// auto-tuning.

import assert from 'node:assert/strict';
import { ByteRing } from '../../ts/socket/tcp/byte-ring.js';
import { ReceiveBuffer } from '../../ts/socket/tcp/receive-buffer.js';
import { Reassembly } from '../../ts/socket/tcp/reassembly.js';
import { SendBuffer } from '../../ts/socket/tcp/send-buffer.js';
import { seqAdd } from '../../ts/socket/tcp/seq.js';
import { patternByte } from './harness.js';

function bytes(from: number, len: number): Uint8Array {
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = patternByte(from + i);
  return b;
}

function assertPattern(b: Uint8Array, from: number, len: number, off = 0): void {
  for (let i = 0; i < len; i++) {
    assert.equal(b[off + i], patternByte(from + i), `byte ${from + i}`);
  }
}

describe('tcp byte ring', () => {
  it('appends, reads and wraps around', () => {
    const r = new ByteRing(10);
    assert.equal(r.append(bytes(0, 7), 0, 7), 7);
    const out = new Uint8Array(10);
    assert.equal(r.read(out, 0, 5), 5);
    assertPattern(out, 0, 5);
    assert.equal(r.append(bytes(7, 20), 0, 20), 8, 'only the free space is taken');
    assert.equal(r.length, 10);
    assert.equal(r.read(out, 0, 10), 10);
    assertPattern(out, 5, 10);
  });

  it('writes ahead of the committed bytes without committing, then commits', () => {
    const r = new ByteRing(8);
    r.append(bytes(0, 6), 0, 6);
    const out = new Uint8Array(8);
    r.read(out, 0, 6); // head at 6: writes ahead wrap
    r.writeAt(3, bytes(3, 4), 0, 4);
    assert.equal(r.length, 0);
    r.writeAt(0, bytes(0, 3), 0, 3);
    r.commit(7);
    assert.equal(r.read(out, 0, 8), 7);
    assertPattern(out, 0, 7);
  });

  it('grows without losing committed or parked bytes', () => {
    const r = new ByteRing(8);
    r.append(bytes(0, 6), 0, 6);
    const out = new Uint8Array(32);
    r.read(out, 0, 4);
    r.append(bytes(6, 4), 0, 4); // wraps: [4..10) committed
    r.writeAt(1, bytes(11, 1), 0, 1); // parked at stream 11
    r.grow(32);
    assert.equal(r.capacity, 32);
    r.writeAt(0, bytes(10, 1), 0, 1);
    r.commit(2);
    assert.equal(r.read(out, 0, 32), 8);
    assertPattern(out, 4, 8);
  });
});

describe('tcp send buffer', () => {
  it('maps sequence numbers to bytes across the 2^32 wrap and releases on ACK', () => {
    const sb = new SendBuffer(100);
    sb.startSeq = 0xffffffe0;
    assert.equal(sb.write(bytes(0, 80), 0, 80), 80);
    assert.equal(sb.endSeq, seqAdd(0xffffffe0, 80));
    const out = new Uint8Array(40);
    sb.copyOut(seqAdd(0xffffffe0, 30), out, 0, 40);
    assertPattern(out, 30, 40);
    assert.equal(sb.bytesFrom(seqAdd(0xffffffe0, 70)), 10);
    assert.equal(sb.ackTo(seqAdd(0xffffffe0, 50)), 50);
    assert.equal(sb.startSeq, seqAdd(0xffffffe0, 50));
    assert.equal(sb.free, 70);
    sb.copyOut(sb.startSeq, out, 0, 30);
    assertPattern(out, 50, 30);
    assert.equal(sb.ackTo(seqAdd(0xffffffe0, 10)), 0, 'an old ACK releases nothing');
  });

  it('lines its bytes up with the frames copied into, keeping every byte, full or wrapped', () => {
    const frames = new Uint8Array(new SharedArrayBuffer(1 << 16));
    for (const fill of [4096, 3000, 8192]) {
      const sb = new SendBuffer(8192);
      const base = 0xfffff000;
      sb.startSeq = base;
      assert.equal(sb.write(bytes(0, fill), 0, fill), fill);
      let written = fill;
      let sent = 0;
      let frame = 0;
      // Short, odd-sized and full copies at frame offsets of every alignment.
      for (const len of [1448, 1448, 700, 1448, 513, 1448, 1448]) {
        const n = Math.min(len, written - sent);
        if (n === 0) break;
        const dstOff = frame * 2048 + 66 + (frame % 8);
        sb.copyOut(seqAdd(base, sent), frames, dstOff, n);
        assertPattern(frames, sent, n, dstOff);
        sent += n;
        frame++;
        if (frame % 3 === 0) {
          const acked = sb.ackTo(seqAdd(sb.startSeq, 1000));
          assert.equal(sb.write(bytes(written, acked), 0, acked), acked);
          written += acked;
        }
      }
    }
  });

  it('rotates its storage into line with a frame at most once per ring of bytes copied', () => {
    const frames = new Uint8Array(new SharedArrayBuffer(1 << 16));
    const ring = new ByteRing(4096);
    ring.append(bytes(0, 4096), 0, 4096);
    ring.rotateToAlign(100, (frames.byteOffset + 66) & 7);
    assert.equal(ring.addressMod8(100), (frames.byteOffset + 66) & 7);
    assert.equal(ring.length, 4096, 'a full ring rotates too');
    const out = new Uint8Array(4096);
    assert.equal(ring.read(out, 0, 4096), 4096);
    assertPattern(out, 0, 4096);
  });
});

describe('tcp receive buffer and reassembly', () => {
  it('reassembles out-of-order, overlapping and duplicate segments byte-exact', () => {
    const rb = new ReceiveBuffer(4096, 4096);
    const q = new Reassembly(8);
    let rcvNxt = 0xfffffe00; // wraps during the test
    const base = rcvNxt;
    const arrive = (from: number, len: number): void => {
      const seq = seqAdd(base, from);
      const offset = (seq - rcvNxt) | 0;
      if (offset < 0) return; // the TCB trims these; covered by the tcb tests
      rb.writeAt(offset, bytes(from, len), 0, len);
      if (offset > 0) {
        assert.ok(q.insert(seq, seqAdd(seq, len)));
        return;
      }
      const next = q.advance(seqAdd(rcvNxt, len));
      rb.commit((next - rcvNxt) | 0);
      rcvNxt = next;
    };
    arrive(1000, 500);
    arrive(1200, 600); // overlaps the previous one
    arrive(2500, 100);
    arrive(1000, 500); // duplicate
    assert.equal(rb.length, 0);
    arrive(0, 1000); // fills the first gap
    assert.equal(rb.length, 1800);
    arrive(1800, 700); // fills the second
    assert.equal(rb.length, 2600);
    assert.ok(q.isEmpty);
    const out = new Uint8Array(4096);
    assert.equal(rb.read(out, 0, 4096), 2600);
    assertPattern(out, 0, 2600);
  });

  it('lines up with the frames it copies from while it holds bytes, and keeps every byte', () => {
    const frames = new Uint8Array(new SharedArrayBuffer(1 << 16));
    const rb = new ReceiveBuffer(16384, 16384);
    const out = new Uint8Array(16384);
    let written = 0;
    let read = 0;
    // In-order segments from frames at every alignment; the reader drains only part of the
    // buffer each time, so it is never empty when the next segment arrives.
    for (let i = 0; i < 40; i++) {
      const len = i % 5 === 4 ? 700 : 1448;
      const srcOff = (i % 16) * 4096 + 66 + (i % 8);
      frames.set(bytes(written, len), srcOff);
      rb.writeAt(0, frames, srcOff, len);
      rb.commit(len);
      written += len;
      const n = rb.read(out, 0, Math.min(rb.length, 1000));
      assertPattern(out, read, n);
      read += n;
    }
    const n = rb.read(out, 0, rb.length);
    assertPattern(out, read, n);
    assert.equal(read + n, written);
  });

  it('bounds the out-of-order queue: a segment needing a new range when full is refused', () => {
    const q = new Reassembly(2);
    assert.ok(q.insert(100, 200));
    assert.ok(q.insert(300, 400));
    assert.ok(!q.insert(500, 600));
    assert.ok(q.insert(200, 300), 'merging needs no new slot');
  });

  it('auto-tunes: doubles (to the cap) when the reader drains over half a buffer per RTT', () => {
    const rb = new ReceiveBuffer(1000, 3000);
    const src = bytes(0, 1000);
    const out = new Uint8Array(1000);
    rb.autotune(0, 10);
    rb.writeAt(0, src, 0, 800);
    rb.commit(800);
    rb.read(out, 0, 800);
    assert.ok(!rb.autotune(5, 10), 'less than one RTT elapsed');
    assert.ok(rb.autotune(10, 10));
    assert.equal(rb.capacity, 2000);
    rb.writeAt(0, src, 0, 100);
    rb.commit(100);
    rb.read(out, 0, 100);
    assert.ok(!rb.autotune(20, 10), 'a slow reader does not grow the buffer');
    for (let i = 0; i < 3; i++) {
      rb.writeAt(0, src, 0, 1000);
      rb.commit(1000);
      rb.read(out, 0, 1000);
      rb.writeAt(0, src, 0, 1000);
      rb.commit(1000);
      rb.read(out, 0, 1000);
      rb.autotune(30 + 10 * i, 10);
    }
    assert.equal(rb.capacity, 3000, 'capped');
  });
});
