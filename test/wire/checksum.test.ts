import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  checksum,
  fold,
  incrementalUpdate16,
  incrementalUpdate32,
  pseudoHeaderSum4,
  pseudoHeaderSum6,
  read16,
  read32,
  sumBytes,
  write16,
  write32,
} from '../../ts/wire/index.js';
import { fromHex } from './captured-packets.js';
import { pseudo4Words, pseudo6Words, referenceChecksum } from './helpers.js';

/** `bytes` copied into a SharedArrayBuffer at byte `shift`, viewed from `viewStart` (<= shift). */
function placed(
  bytes: Uint8Array,
  shift: number,
  viewStart: number,
): { buf: Uint8Array; off: number } {
  const sab = new SharedArrayBuffer(bytes.length + shift + 8);
  const buf = new Uint8Array(sab, viewStart);
  buf.set(bytes, shift - viewStart);
  return { buf, off: shift - viewStart };
}

describe('wire: Internet checksum (RFC 1071)', () => {
  it('matches the RFC 1071 numerical example and a textbook IPv4 header', () => {
    // RFC 1071 3: the sum of 0001 f203 f4f5 f6f7 is ddf2, so the checksum is 220d.
    const rfc = fromHex('0001f203f4f5f6f7');
    assert.equal(fold(sumBytes(rfc, 0, 8)), 0xddf2);
    assert.equal(checksum(rfc, 0, 8), 0x220d);
    // The widely published example header 4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7.
    const ip = fromHex('450000730000400040110000c0a80001c0a800c7');
    assert.equal(checksum(ip, 0, 20), 0xb861);
    write16(ip, 10, 0xb861);
    assert.equal(checksum(ip, 0, 20), 0);
  });

  it('equals a by-the-book implementation for any bytes, length, offset and alignment', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 2100, size: 'max' }),
        fc.integer({ min: 0, max: 7 }),
        fc.integer({ min: 0, max: 7 }),
        fc.integer({ min: 0, max: 0xfffff }),
        (bytes, shift, viewStartRaw, initial) => {
          const viewStart = Math.min(viewStartRaw, shift);
          const { buf, off } = placed(bytes, shift, viewStart);
          const expected = referenceChecksum(bytes, [initial >>> 16, initial & 0xffff]);
          assert.equal(checksum(buf, off, bytes.length, initial), expected);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('handles the largest IP payloads (64 KiB) on every alignment', () => {
    const bytes = new Uint8Array(65535).fill(0xff);
    for (let shift = 0; shift < 4; shift++) {
      const { buf, off } = placed(bytes, shift, 0);
      assert.equal(checksum(buf, off, bytes.length), referenceChecksum(bytes));
    }
  });

  it('pseudo-header sums equal the reference over explicit pseudo-header words', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 300 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.constantFrom(6, 17, 58),
        (payload, src, dst, addrs, proto) => {
          const len = payload.length;
          assert.equal(
            checksum(payload, 0, len, pseudoHeaderSum4(src, dst, proto, len)),
            referenceChecksum(payload, pseudo4Words(src, dst, proto, len)),
          );
          const sum6 = pseudoHeaderSum6(addrs, 0, addrs, 16, proto, len);
          const ref6 = referenceChecksum(
            payload,
            pseudo6Words(addrs.subarray(0, 16), addrs.subarray(16), proto, len),
          );
          assert.equal(checksum(payload, 0, len, sum6), ref6);
        },
      ),
    );
  });
});

/** RFC 1071 by the book, as a folded partial sum: big-endian byte pairs, an odd byte padded. */
function referenceSum(bytes: Uint8Array, initial: number): number {
  let sum = initial;
  for (let i = 0; i < bytes.length; i += 2) {
    sum += (bytes[i] << 8) | (i + 1 < bytes.length ? bytes[i + 1] : 0);
    sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  }
  return fold(sum);
}

/** `bytes` at byte `shift` of a shared or plain buffer, viewed from `viewStart` (<= shift). */
function placedIn(
  shared: boolean,
  bytes: Uint8Array,
  shift: number,
  viewStart: number,
): { buf: Uint8Array; off: number } {
  const size = bytes.length + shift + 8;
  const backing = shared ? new SharedArrayBuffer(size) : new ArrayBuffer(size);
  const buf = new Uint8Array(backing, viewStart);
  buf.fill(0xa5);
  buf.set(bytes, shift - viewStart);
  return { buf, off: shift - viewStart };
}

describe('wire: sumBytes and checksum against a byte-pair reference', () => {
  // Offsets 0..7 cover every address mod 8 (the word path aligns to 4 and treats odd starts
  // apart); a view that does not start at its buffer's start checks byteOffset handling.
  const placement = fc.record({
    shared: fc.boolean(),
    shift: fc.integer({ min: 0, max: 7 }),
    viewStart: fc.integer({ min: 0, max: 7 }),
  });
  // size 'max': fast-check's default size keeps arrays to about 10 bytes whatever maxLength says,
  // which would never reach the word path (48 bytes and up).
  const bytesUpTo2000 = fc.uint8Array({ minLength: 0, maxLength: 2000, size: 'max' });
  // Partial sums arrive unfolded (pseudo header plus header plus payload), up to 2^40 here.
  const initial = fc.oneof(
    fc.constant(0),
    fc.integer({ min: 0, max: 0xffff }),
    fc.integer({ min: 0, max: 2 ** 40 }),
  );

  it('sumBytes and checksum, every length 0..2000, offset and buffer kind', () => {
    fc.assert(
      fc.property(bytesUpTo2000, placement, initial, (bytes, p, init) => {
        const { buf, off } = placedIn(p.shared, bytes, p.shift, Math.min(p.viewStart, p.shift));
        const expected = referenceSum(bytes, init);
        assert.equal(fold(sumBytes(buf, off, bytes.length, init)), expected);
        assert.equal(checksum(buf, off, bytes.length, init), ~expected & 0xffff);
      }),
      { numRuns: 3000 },
    );
  });

  it('sums correctly when several buffers take turns (the view cache evicts and refills)', () => {
    const bufs = [0, 1, 2].map((k) => {
      const b = new Uint8Array(k === 1 ? new ArrayBuffer(3000) : new SharedArrayBuffer(3000));
      for (let i = 0; i < b.length; i++) b[i] = (i * 7 + k * 101) & 0xff;
      return b;
    });
    for (let round = 0; round < 20; round++) {
      for (const [k, b] of bufs.entries()) {
        const off = (round + k) % 5;
        const len = 1448 + round;
        assert.equal(fold(sumBytes(b, off, len)), referenceSum(b.subarray(off, off + len), 0));
      }
    }
  });
});

describe('wire: incremental checksum update (RFC 1624)', () => {
  // A header-like block: word 0 is non-zero (as an IPv4 version/IHL word is), word 1 holds the
  // checksum, the rest is arbitrary.
  const block = fc.uint8Array({ minLength: 8, maxLength: 80 }).map((b) => {
    const even = b.subarray(0, b.length & ~1);
    even[0] |= 0x40;
    return even;
  });

  it('eqn 3 after one 16-bit word changes equals a full recompute', () => {
    fc.assert(
      fc.property(block, fc.nat(), fc.integer({ min: 0, max: 0xffff }), (b, pick, newWord) => {
        write16(b, 2, 0);
        write16(b, 2, checksum(b, 0, b.length));
        const at = 4 + 2 * (pick % ((b.length - 4) >> 1));
        const oldWord = read16(b, at);
        const updated = incrementalUpdate16(read16(b, 2), oldWord, newWord);
        write16(b, at, newWord);
        write16(b, 2, 0);
        assert.equal(updated, checksum(b, 0, b.length));
      }),
      { numRuns: 2000 },
    );
  });

  it('the 32-bit form (an address or sequence number) equals a full recompute', () => {
    fc.assert(
      fc.property(
        block.filter((b) => b.length >= 8),
        fc.nat(),
        fc.integer({ min: 0, max: 0xffffffff }),
        (b, pick, newValue) => {
          write16(b, 2, 0);
          write16(b, 2, checksum(b, 0, b.length));
          const at = 4 + 2 * (pick % ((b.length - 6) >> 1));
          const updated = incrementalUpdate32(read16(b, 2), read32(b, at), newValue);
          write32(b, at, newValue);
          write16(b, 2, 0);
          assert.equal(updated, checksum(b, 0, b.length));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('RFC 1624 4 example: eqn 3 does not produce -0', () => {
    // RFC 1624 4: HC = 0xdd2f and a field changes from 0x5555 to 0x3285. Eqn 3 gives 0x0000;
    // eqn 2 gives 0xffff, a -0 that no full recompute can produce.
    assert.equal(incrementalUpdate16(0xdd2f, 0x5555, 0x3285), 0x0000);
  });
});
