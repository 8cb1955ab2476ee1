import assert from 'node:assert/strict';
import {
  DEFAULT_RSS_KEY,
  SYMMETRIC_RSS_KEY,
  ToeplitzHasher,
  rssKeyFromHex,
  toeplitzHash,
} from '../../ts/rss/index.js';
import { xorshift } from '../support/xorshift.js';

// Microsoft, "Verifying the RSS Hash Calculation" (learn.microsoft.com/windows-hardware/drivers/
// network/verifying-the-rss-hash-calculation), default key; also used by FreeBSD, DPDK and VPP.
const IPV4_VECTORS = [
  {
    dst: '161.142.100.80',
    dport: 1766,
    src: '66.9.149.187',
    sport: 2794,
    ip: 0x323e8fc2,
    tcp: 0x51ccc178,
  },
  {
    dst: '65.69.140.83',
    dport: 4739,
    src: '199.92.111.2',
    sport: 14230,
    ip: 0xd718262a,
    tcp: 0xc626b0ea,
  },
  {
    dst: '12.22.207.184',
    dport: 38024,
    src: '24.19.198.95',
    sport: 12898,
    ip: 0xd2d0a5de,
    tcp: 0x5c2b394a,
  },
  {
    dst: '209.142.163.6',
    dport: 2217,
    src: '38.27.205.30',
    sport: 48228,
    ip: 0x82989176,
    tcp: 0xafc7327f,
  },
  {
    dst: '202.188.127.2',
    dport: 1303,
    src: '153.39.163.191',
    sport: 44251,
    ip: 0x5d1809c5,
    tcp: 0x10e828a2,
  },
];
const IPV6_VECTORS = [
  {
    dst: '3ffe:2501:200:3::1',
    dport: 1766,
    src: '3ffe:2501:200:1fff::7',
    sport: 2794,
    ip: 0x2cc18cd5,
    tcp: 0x40207d3d,
  },
  {
    dst: 'ff02::1',
    dport: 4739,
    src: '3ffe:501:8::260:97ff:fe40:efab',
    sport: 14230,
    ip: 0x0f0c461c,
    tcp: 0xdde51bbf,
  },
  {
    dst: 'fe80::200:f8ff:fe21:67cf',
    dport: 38024,
    src: '3ffe:1900:4545:3:200:f8ff:fe21:67cf',
    sport: 44251,
    ip: 0x4b61e985,
    tcp: 0x02d1feef,
  },
];

function ipv4(s: string): Uint8Array {
  return Uint8Array.from(s.split('.').map(Number));
}

function ipv6(s: string): Uint8Array {
  const [head, tail] = s.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[2 * i] = v >>> 8;
    out[2 * i + 1] = v & 0xff;
  });
  return out;
}

function rssInput(src: Uint8Array, dst: Uint8Array, sport: number, dport: number): Uint8Array {
  const n = src.length;
  const b = new Uint8Array(2 * n + 4);
  b.set(src, 0);
  b.set(dst, n);
  b.set([sport >>> 8, sport & 0xff, dport >>> 8, dport & 0xff], 2 * n);
  return b;
}

/** An Ethernet + IP + TCP frame carrying the tuple, with the headers where a NIC finds them. */
function frameV4(src: Uint8Array, dst: Uint8Array, sport: number, dport: number): Uint8Array {
  const f = new Uint8Array(14 + 20 + 20);
  f.set([0x08, 0x00], 12);
  f[14] = 0x45;
  f[14 + 9] = 6;
  f.set(src, 14 + 12);
  f.set(dst, 14 + 16);
  f.set([sport >>> 8, sport & 0xff, dport >>> 8, dport & 0xff], 34);
  return f;
}

function frameV6(src: Uint8Array, dst: Uint8Array, sport: number, dport: number): Uint8Array {
  const f = new Uint8Array(14 + 40 + 20);
  f.set([0x86, 0xdd], 12);
  f[14] = 0x60;
  f[14 + 6] = 6;
  f.set(src, 14 + 8);
  f.set(dst, 14 + 24);
  f.set([sport >>> 8, sport & 0xff, dport >>> 8, dport & 0xff], 54);
  return f;
}

describe('rss: Toeplitz hash', () => {
  const hasher = new ToeplitzHasher(DEFAULT_RSS_KEY);

  it('matches Microsoft verification vectors for IPv4, with and without ports', () => {
    for (const v of IPV4_VECTORS) {
      const [src, dst] = [ipv4(v.src), ipv4(v.dst)];
      const input = rssInput(src, dst, v.sport, v.dport);
      const frame = frameV4(src, dst, v.sport, v.dport);
      for (const h of [
        toeplitzHash(DEFAULT_RSS_KEY, input),
        hasher.hash(input),
        hasher.hashIpv4(frame, 26, 34),
        hasher.hashTuple(src, dst, v.sport, v.dport),
      ]) {
        assert.equal(h, v.tcp, `${v.src}:${v.sport} -> ${v.dst}:${v.dport}`);
      }
      for (const h of [
        toeplitzHash(DEFAULT_RSS_KEY, input.subarray(0, 8)),
        hasher.hash(input, 0, 8),
        hasher.hashIpv4(frame, 26, -1),
        hasher.hashTuple(src, dst, -1, -1),
      ]) {
        assert.equal(h, v.ip, `${v.src} -> ${v.dst}`);
      }
    }
  });

  it('matches Microsoft verification vectors for IPv6, with and without ports', () => {
    for (const v of IPV6_VECTORS) {
      const [src, dst] = [ipv6(v.src), ipv6(v.dst)];
      const input = rssInput(src, dst, v.sport, v.dport);
      const frame = frameV6(src, dst, v.sport, v.dport);
      for (const h of [
        toeplitzHash(DEFAULT_RSS_KEY, input),
        hasher.hash(input),
        hasher.hashIpv6(frame, 22, 54),
        hasher.hashTuple(src, dst, v.sport, v.dport),
      ]) {
        assert.equal(h, v.tcp, `${v.src}.${v.sport} -> ${v.dst}.${v.dport}`);
      }
      for (const h of [
        toeplitzHash(DEFAULT_RSS_KEY, input.subarray(0, 32)),
        hasher.hashIpv6(frame, 22, -1),
      ]) {
        assert.equal(h, v.ip, `${v.src} -> ${v.dst}`);
      }
    }
  });

  it('the table-driven hash equals the bit-serial reference for random keys and inputs', () => {
    const rand = xorshift(77);
    for (let round = 0; round < 200; round++) {
      const key = Uint8Array.from({ length: 8 + (rand() % 60) }, () => rand() & 0xff);
      const h = new ToeplitzHasher(key);
      const input = Uint8Array.from({ length: rand() % (key.length - 3) }, () => rand() & 0xff);
      assert.equal(h.hash(input), toeplitzHash(key, input));
    }
  });

  it('refuses input longer than the key allows', () => {
    assert.throws(() => toeplitzHash(DEFAULT_RSS_KEY, new Uint8Array(37)), { code: 'EINVAL' });
    assert.throws(() => hasher.hash(new Uint8Array(37)), { code: 'EINVAL' });
    assert.throws(() => rssKeyFromHex('6d5'), { code: 'EINVAL' });
  });

  it('the symmetric key hashes both directions of a flow alike; the default key does not', () => {
    const sym = new ToeplitzHasher(SYMMETRIC_RSS_KEY);
    const rand = xorshift(5);
    let defaultAsymmetric = 0;
    for (let i = 0; i < 1000; i++) {
      const n = i % 2 === 0 ? 4 : 16;
      const a = Uint8Array.from({ length: n }, () => rand() & 0xff);
      const b = Uint8Array.from({ length: n }, () => rand() & 0xff);
      const [p, q] = [rand() & 0xffff, rand() & 0xffff];
      assert.equal(sym.hashTuple(a, b, p, q), sym.hashTuple(b, a, q, p));
      if (hasher.hashTuple(a, b, p, q) !== hasher.hashTuple(b, a, q, p)) defaultAsymmetric++;
    }
    assert.ok(defaultAsymmetric > 990);
  });
});
