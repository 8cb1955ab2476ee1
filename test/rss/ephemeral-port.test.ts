import assert from 'node:assert/strict';
import {
  DEFAULT_RSS_KEY,
  Reta,
  SYMMETRIC_RSS_KEY,
  ToeplitzHasher,
  pickEphemeralPort,
  toeplitzHash,
} from '../../ts/rss/index.js';

const V4_LOCAL = Uint8Array.from([198, 18, 0, 1]);
const V4_REMOTE = Uint8Array.from([198, 19, 7, 9]);
const V6_LOCAL = Uint8Array.from([0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
const V6_REMOTE = Uint8Array.from([0x20, 0x01, 0, 2, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0x12, 0x34]);

/** Return-direction hash computed independently with the bit-serial reference. */
function replyHash(
  key: Uint8Array,
  local: Uint8Array,
  remote: Uint8Array,
  rport: number,
  lport: number,
) {
  const n = local.length;
  const input = new Uint8Array(2 * n + 4);
  input.set(remote, 0);
  input.set(local, n);
  input.set([rport >>> 8, rport & 0xff, lport >>> 8, lport & 0xff], 2 * n);
  return toeplitzHash(key, input);
}

describe('rss: ephemeral ports for connect()', () => {
  for (const [family, local, remote] of [
    ['IPv4', V4_LOCAL, V4_REMOTE],
    ['IPv6', V6_LOCAL, V6_REMOTE],
  ] as const) {
    for (const workers of [2, 4]) {
      it(`every chosen port hashes back to the calling worker (${family}, ${workers} workers)`, () => {
        const hasher = new ToeplitzHasher(DEFAULT_RSS_KEY);
        const reta = new Reta(workers, 128);
        for (let worker = 0; worker < workers; worker++) {
          const used = new Set<number>();
          for (let i = 0; i < 300; i++) {
            const port = pickEphemeralPort({
              hasher,
              reta,
              worker,
              localAddr: local,
              remoteAddr: remote,
              remotePort: 443,
              inUse: used,
            });
            assert.ok(port >= 32768 && port <= 60999);
            assert.ok(!used.has(port), 'never hands out a port in use');
            const h = replyHash(DEFAULT_RSS_KEY, local, remote, 443, port);
            assert.equal(reta.ownerOf(h), worker, `port ${port}`);
            used.add(port);
          }
        }
      });
    }
  }

  it('uses up exactly the ports that map to the worker, then fails with EADDRNOTAVAIL', () => {
    const hasher = new ToeplitzHasher(DEFAULT_RSS_KEY);
    const reta = new Reta(4, 512);
    const range = [40000, 40999] as const;
    let expected = 0;
    for (let p = range[0]; p <= range[1]; p++) {
      if (reta.ownerOf(replyHash(DEFAULT_RSS_KEY, V4_LOCAL, V4_REMOTE, 80, p)) === 1) expected++;
    }
    assert.ok(expected > 150 && expected < 350, `${expected} ports map to worker 1`);
    const used = new Set<number>();
    const pick = () =>
      pickEphemeralPort({
        hasher,
        reta,
        worker: 1,
        localAddr: V4_LOCAL,
        remoteAddr: V4_REMOTE,
        remotePort: 80,
        inUse: (port) => used.has(port),
        range,
        startOffset: used.size * 7,
      });
    for (let i = 0; i < expected; i++) used.add(pick());
    assert.equal(used.size, expected);
    assert.throws(pick, { code: 'EADDRNOTAVAIL' });
  });

  it('works with the symmetric key too and rejects a bad range', () => {
    const hasher = new ToeplitzHasher(SYMMETRIC_RSS_KEY);
    const reta = new Reta(2, 128);
    const port = pickEphemeralPort({
      hasher,
      reta,
      worker: 1,
      localAddr: V6_LOCAL,
      remoteAddr: V6_REMOTE,
      remotePort: 53,
    });
    assert.equal(reta.ownerOf(replyHash(SYMMETRIC_RSS_KEY, V6_LOCAL, V6_REMOTE, 53, port)), 1);
    assert.throws(
      () =>
        pickEphemeralPort({
          hasher,
          reta,
          worker: 0,
          localAddr: V4_LOCAL,
          remoteAddr: V4_REMOTE,
          remotePort: 1,
          range: [5000, 4000],
        }),
      { code: 'EINVAL' },
    );
  });
});
