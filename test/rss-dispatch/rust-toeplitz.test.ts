// The Rust Toeplitz hash (the dispatcher's) must agree bit for bit with the TypeScript one that
// decides ownership (ts/rss), or flows would land on a worker other than the one the RETA names.
// The Microsoft vectors are checked in Rust (`cargo test -p node-xdp rss`); this compares the two
// implementations over many random tuples and keys.
import assert from 'node:assert/strict';
import { DEFAULT_RSS_KEY, SYMMETRIC_RSS_KEY, ToeplitzHasher } from '../../ts/rss/index.js';
import { nodeXdpDispatch } from '../../ts/dev/dispatch/native-dispatch.js';
import { xorshift } from '../support/xorshift.js';

describe('rss-dispatch: Rust Toeplitz hash', () => {
  for (const [name, key] of [
    ['default', DEFAULT_RSS_KEY],
    ['symmetric', SYMMETRIC_RSS_KEY],
  ] as const) {
    for (const stride of [12, 36]) {
      it(`equals the TypeScript hasher on 10,000 random ${stride}-byte tuples (${name} key)`, () => {
        const rand = xorshift(stride * 7919 + key[1]);
        const inputs = Uint8Array.from({ length: 10000 * stride }, () => rand() & 0xff);
        const out = new Uint32Array(10000);
        assert.equal(nodeXdpDispatch().toeplitzHashMany(key, inputs, stride, out), 10000);
        const ts = new ToeplitzHasher(key);
        for (let i = 0; i < 10000; i++) {
          assert.equal(out[i], ts.hash(inputs, i * stride, stride), `tuple ${i}`);
        }
      });
    }
  }

  it('refuses a stride the key cannot hash', () => {
    assert.throws(
      () =>
        nodeXdpDispatch().toeplitzHashMany(
          DEFAULT_RSS_KEY,
          new Uint8Array(40),
          37,
          new Uint32Array(1),
        ),
      (e: Error & { code?: string }) => e.code === 'EINVAL',
    );
  });
});
