// SipHash-2-4 against the reference test vectors (Aumasson and Bernstein, the paper's appendix
// and the reference implementation's vectors.h): key 00 01 .. 0f, message 00 01 .. (len - 1) for
// len 0..63, output as 8 little-endian bytes. And the SYN cookies keyed with it (RFC 4987 3.6).

import assert from 'node:assert/strict';
import { SipHash } from '../../ts/socket/tcp/siphash.js';
import { SynCookies } from '../../ts/socket/tcp/syn-cookie.js';

const VECTORS = [
  '310e0edd47db6f72',
  'fd67dc93c539f874',
  '5a4fa9d909806c0d',
  '2d7efbd796666785',
  'b7877127e09427cf',
  '8da699cd64557618',
  'cee3fe586e46c9cb',
  '37d1018bf50002ab',
  '6224939a79f5f593',
  'b0e4a90bdf82009e',
  'f3b9dd94c5bb5d7a',
  'a7ad6b22462fb3f4',
  'fbe50e86bc8f1e75',
  '903d84c02756ea14',
  'eef27a8e90ca23f7',
  'e545be4961ca29a1',
  'db9bc2577fcc2a3f',
  '9447be2cf5e99a69',
  '9cd38d96f0b3c14b',
  'bd6179a71dc96dbb',
  '98eea21af25cd6be',
  'c7673b2eb0cbf2d0',
  '883ea3e395675393',
  'c8ce5ccd8c030ca8',
  '94af49f6c650adb8',
  'eab8858ade92e1bc',
  'f315bb5bb835d817',
  'adcf6b0763612e2f',
  'a5c91da7acaa4dde',
  '716595876650a2a6',
  '28ef495c53a387ad',
  '42c341d8fa92d832',
  'ce7cf2722f512771',
  'e37859f94623f3a7',
  '381205bb1ab0e012',
  'ae97a10fd434e015',
  'b4a31508beff4d31',
  '81396229f0907902',
  '4d0cf49ee5d4dcca',
  '5c73336a76d8bf9a',
  'd0a704536ba93e0e',
  '925958fcd6420cad',
  'a915c29bc8067318',
  '952b79f3bc0aa6d4',
  'f21df2e41d4535f9',
  '87577519048f53a9',
  '10a56cf5dfcd9adb',
  'eb75095ccd986cd0',
  '51a9cb9ecba312e6',
  '96afadfc2ce666c7',
  '72fe52975a4364ee',
  '5a1645b276d592a1',
  'b274cb8ebf87870a',
  '6f9bb4203de7b381',
  'eaecb2a30b22a87f',
  '9924a43cc1315724',
  'bd838d3aafbf8db7',
  '0b1a2a3265d51aea',
  '135079a3231ce660',
  '932b2846e4d70666',
  'e1915f5cb1eca46c',
  'f325965ca16d629f',
  '575ff28e60381be5',
  '724506eb4c328a95',
];

function hex8(hi: number, lo: number): string {
  let s = '';
  for (let i = 0; i < 4; i++) s += ((lo >>> (8 * i)) & 0xff).toString(16).padStart(2, '0');
  for (let i = 0; i < 4; i++) s += ((hi >>> (8 * i)) & 0xff).toString(16).padStart(2, '0');
  return s;
}

describe('tcp SipHash-2-4 and SYN cookies', () => {
  const key = Uint8Array.from({ length: 16 }, (_, i) => i);

  it('matches the 64 reference vectors', () => {
    const sip = new SipHash(key);
    const msg = Uint8Array.from({ length: 64 }, (_, i) => i);
    for (let len = 0; len < 64; len++) {
      sip.hash(msg, 0, len);
      assert.equal(hex8(sip.hi, sip.lo), VECTORS[len], `length ${len}`);
    }
  });

  it('hashes 32-bit words as their little-endian bytes, also at an offset', () => {
    const sip = new SipHash(key);
    const msg = Uint8Array.from({ length: 64 }, (_, i) => i);
    const words = new Uint32Array(11);
    for (let count = 0; count <= 11; count++) {
      for (let i = 0; i < count; i++) words[i] = new DataView(msg.buffer).getUint32(4 * i, true);
      sip.hashWords(words, count);
      assert.equal(hex8(sip.hi, sip.lo), VECTORS[4 * count], `${count} words`);
    }
    const shifted = new Uint8Array(70);
    shifted.set(msg.subarray(0, 20), 5);
    sip.hash(shifted, 5, 20);
    assert.equal(hex8(sip.hi, sip.lo), VECTORS[20]);
  });

  it('keys the cookie: another secret gives another cookie; checks survive one minute', () => {
    const remote = Uint32Array.of(0xc6120002, 0, 0, 0);
    const local = Uint32Array.of(0xc6120001, 0, 0, 0);
    const ports = (40000 << 16) | 80;
    const a = new SynCookies(key);
    const b = new SynCookies(Uint8Array.from({ length: 16 }, (_, i) => 16 - i));
    const t = 3_600_000;
    const ca = a.make(remote, local, ports, 12345, 1460, t);
    const cb = b.make(remote, local, ports, 12345, 1460, t);
    assert.notEqual(ca & 0xffffff, cb & 0xffffff, 'the hash depends on the secret');
    assert.equal(a.check(remote, local, ports, 12345, ca, t + 59_000), 1460);
    assert.equal(a.check(remote, local, ports, 12345, ca, t + 119_000), 1460, 'previous minute');
    assert.equal(a.check(remote, local, ports, 12345, ca, t + 120_000), -1, 'two minutes: stale');
    assert.equal(b.check(remote, local, ports, 12345, ca, t), -1, 'not valid under another key');
    assert.equal(a.check(remote, local, ports, 12346, ca, t), -1, 'bound to the peer ISN');
    // The hash bits of cookies for neighbouring ports look unrelated (no linear structure).
    let flips = 0;
    const base = a.make(remote, local, ports, 1, 1460, t) & 0xffffff;
    for (let p = 1; p <= 64; p++) {
      const c = a.make(remote, local, ports + p, 1, 1460, t) & 0xffffff;
      let x = (c ^ base) >>> 0;
      for (; x !== 0; x &= x - 1) flips++;
    }
    const mean = flips / 64;
    assert.ok(mean > 9 && mean < 15, `mean bits flipped ${mean} (12 expected)`);
  });
});
