// The SIMD checksum over packet memory (ts/wire/simd-sum.ts): the same answer as RFC 1071's
// definition for every length and address, and the embedded module is its WAT source compiled.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { checksum } from '../../ts/wire/index.js';
import { packetMemory, simdSumOver } from '../../ts/wire/simd-sum.js';
import { packageRoot } from '../../ts/dev/xdp/native.js';
import { referenceChecksum } from './helpers.js';

describe('wire: SIMD checksum over packet memory', () => {
  const { buffer } = packetMemory(1 << 20);
  const packet = new Uint8Array(buffer);

  it('is what packet memory is summed with, and nothing else is', () => {
    assert.notEqual(simdSumOver(packet), null);
    assert.equal(simdSumOver(new Uint8Array(new SharedArrayBuffer(4096))), null);
    assert.equal(simdSumOver(new Uint8Array(4096)), null);
  });

  it('matches RFC 1071 at every length and address, through any view of the memory', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 9000 }),
        fc.integer({ min: 0, max: 4095 }),
        fc.integer({ min: 0, max: 64 }),
        (bytes, at, viewStart) => {
          const view = new Uint8Array(buffer, viewStart);
          view.set(bytes, at);
          assert.equal(checksum(view, at, bytes.length), referenceChecksum(bytes));
        },
      ),
      { numRuns: 400 },
    );
  });

  it('sums runs longer than one call may take (1 MiB) without a lane overflowing', () => {
    packet.fill(0xff);
    const whole = packet.length - 4096 + 3;
    assert.equal(checksum(packet, 1, whole), referenceChecksum(packet.subarray(1, 1 + whole)));
  });

  it('embeds exactly the module that ts/wire/simd-sum.wat compiles to', function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simd-sum-'));
    try {
      const out = path.join(dir, 'simd-sum.wasm');
      const wat = path.join(packageRoot, 'ts/wire/simd-sum.wat');
      execFileSync('wat2wasm', ['--enable-threads', wat, '-o', out]);
      const source = fs.readFileSync(path.join(packageRoot, 'ts/wire/simd-sum.ts'), 'utf8');
      const embedded = /MODULE_BASE64 =\s*'([^']+)'/.exec(source)?.[1];
      assert.equal(embedded, fs.readFileSync(out).toString('base64'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
