// Toeplitz hashes per second in TypeScript: the bit-serial reference (generic, any key and
// input) against the table-driven hasher, for IPv4 (12-byte) and IPv6 (36-byte) 4-tuples read
// from frames. Run: node dist/perf/bench/toeplitz.bench.js

import Benchmark from 'benchmark';
import { DEFAULT_RSS_KEY, ToeplitzHasher, toeplitzHash } from '../../ts/rss/index.js';

const FLOWS = 1024; // distinct frames, so the hash input varies like real traffic
const V4_FRAME = 54; // Ethernet + IPv4 + TCP
const V6_FRAME = 74; // Ethernet + IPv6 + TCP

function randomFrames(frameLen: number): Uint8Array {
  const buf = new Uint8Array(FLOWS * frameLen);
  let s = 0x9e3779b9;
  for (let i = 0; i < buf.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    buf[i] = s & 0xff;
  }
  return buf;
}

const hasher = new ToeplitzHasher(DEFAULT_RSS_KEY);
const v4 = randomFrames(V4_FRAME);
const v6 = randomFrames(V6_FRAME);
const v4Inputs = Array.from({ length: FLOWS }, (_, i) =>
  v4.slice(i * V4_FRAME + 26, i * V4_FRAME + 38),
);
const v6Inputs = Array.from({ length: FLOWS }, (_, i) =>
  v6.slice(i * V6_FRAME + 22, i * V6_FRAME + 58),
);
let sink = 0;
let k = 0;

const suite = new Benchmark.Suite('toeplitz');
suite
  .add('generic toeplitzHash, IPv4 4-tuple (12 B)', () => {
    sink ^= toeplitzHash(DEFAULT_RSS_KEY, v4Inputs[k++ & (FLOWS - 1)]);
  })
  .add('generic toeplitzHash, IPv6 4-tuple (36 B)', () => {
    sink ^= toeplitzHash(DEFAULT_RSS_KEY, v6Inputs[k++ & (FLOWS - 1)]);
  })
  .add('table hashIpv4 from frame', () => {
    const off = (k++ & (FLOWS - 1)) * V4_FRAME;
    sink ^= hasher.hashIpv4(v4, off + 26, off + 34);
  })
  .add('table hashIpv6 from frame', () => {
    const off = (k++ & (FLOWS - 1)) * V6_FRAME;
    sink ^= hasher.hashIpv6(v6, off + 22, off + 54);
  })
  .add('table hash, 64 IPv4 frames per call (burst)', () => {
    const base = (k++ & 15) * 64;
    for (let i = 0; i < 64; i++) {
      const off = (base + i) * V4_FRAME;
      sink ^= hasher.hashIpv4(v4, off + 26, off + 34);
    }
  })
  .on('cycle', (e: Benchmark.Event) => {
    const t = e.target as Benchmark.Target & { name: string };
    const perCall = t.name.includes('64 IPv4') ? 64 : 1;
    const hz = (t.hz ?? 0) * perCall;
    console.log(`  ${t.name}: ${(hz / 1e6).toFixed(1)} M hashes/s (±${t.stats?.rme.toFixed(1)}%)`);
  })
  .on('complete', () => {
    if (sink === 0.5) console.log('');
  });

console.log('Toeplitz hash, default 40-byte key, benchmark.js:');
suite.run({ async: false });
