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
        fc.uint8Array({ minLength: 0, maxLength: 2100 }),
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
