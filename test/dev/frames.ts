// Test frames for the memory device: Ethernet frames whose length and contents follow from
// (side, seq), so a receiver in any thread can check a packet byte by byte without a copy of it.
import { Xoshiro128 } from '../../ts/dev/memory/prng.js';
import type { FrameDevice } from '../../ts/dev/frame-device.js';

/** IEEE 802 local experimental EtherType: tshark shows the payload as plain data. */
export const TEST_ETHERTYPE = 0x88b5;
export const MIN_FRAME = 60;
export const MAX_FRAME = 1514;

/** Length of frame `seq` from `side` (0 = a, 1 = b): 60..1514, spread by a hash. */
export function frameLength(side: number, seq: number): number {
  const h = Math.imul(seq ^ (side << 24), 0x9e3779b1) >>> 0;
  return MIN_FRAME + (h % (MAX_FRAME - MIN_FRAME + 1));
}

/** Writes frame `seq` of `side` at `offset` of `bytes`; returns its length. */
export function writeFrame(bytes: Uint8Array, offset: number, side: number, seq: number): number {
  const len = frameLength(side, seq);
  const peer = 1 - side;
  bytes.set([0x02, 0, 0, 0, 0, 0x10 + peer, 0x02, 0, 0, 0, 0, 0x10 + side], offset);
  bytes[offset + 12] = TEST_ETHERTYPE >>> 8;
  bytes[offset + 13] = TEST_ETHERTYPE & 0xff;
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(offset + 14, seq);
  const rng = new Xoshiro128(seq * 2 + side);
  for (let i = 18; i < len; i++) bytes[offset + i] = rng.nextU32() & 0xff;
  return len;
}

/** The seq of a frame from `side` if it is byte-exact, else -1. */
export function checkFrame(bytes: Uint8Array, offset: number, len: number, side: number): number {
  const seq = new DataView(bytes.buffer, bytes.byteOffset).getUint32(offset + 14);
  if (len !== frameLength(side, seq)) return -1;
  const expect = new Uint8Array(len);
  writeFrame(expect, 0, side, seq);
  for (let i = 0; i < len; i++) if (bytes[offset + i] !== expect[i]) return -1;
  return seq;
}

/** Allocates a frame on `dev`, writes frame `seq` of `side` into it and sends it. */
export function sendFrame(dev: FrameDevice, side: number, seq: number): number {
  const frame = dev.allocate();
  if (frame < 0) throw new Error(`no free frame for seq ${seq}`);
  const addr = frame + dev.txDataOffset;
  const len = writeFrame(dev.bytes, dev.umemOffset + addr, side, seq);
  if (!dev.send(addr, len)) throw new Error(`send of seq ${seq} refused`);
  return addr;
}

/** Sequence number of a received frame (no check). */
export function seqOf(dev: FrameDevice, addr: number): number {
  return dev.view.getUint32(dev.umemOffset + addr + 14);
}

/** Receives everything waiting on `dev`, calls `each(addr, len)` and releases the frames. */
export function drain(dev: FrameDevice, each?: (addr: number, len: number) => void): number {
  let total = 0;
  for (;;) {
    const n = dev.receive();
    if (n === 0) return total;
    for (let i = 0; i < n; i++) {
      each?.(dev.rxDesc[2 * i], dev.rxDesc[2 * i + 1]);
      dev.release(dev.rxDesc[2 * i]);
    }
    total += n;
  }
}
