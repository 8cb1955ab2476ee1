// Micro-benchmarks for the Internet checksum (ts/wire/checksum.ts): sumBytes over the run lengths
// a TCP/IP stack sums (20/40-byte headers, a 64-byte small frame, a 1448-byte MSS payload, a
// 1480-byte IPv4 payload) at an 8-aligned offset, a 2 mod 4 offset (where a payload lands after
// Ethernet + IPv4 + TCP-with-timestamps headers) and an odd offset, over a SharedArrayBuffer (as
// the UMEM is) and over an ordinary ArrayBuffer (a socket's send or receive ring); and the
// payload copy between the two with its sum.
// Run: npx tsc -p tsconfig.json && node dist/perf/bench/checksum.bench.js [filter]
// Prints one line per case and, last, a JSON object {case: ns per call} for scripts to compare.

import Benchmark from 'benchmark';
import { checksum, sumBytes } from '../../ts/wire/index.js';

const SIZE = 16 * 2048;
const shared = new Uint8Array(new SharedArrayBuffer(SIZE));
const plain = new Uint8Array(SIZE);
for (let i = 0; i < SIZE; i++) shared[i] = plain[i] = (i * 131 + 7) & 0xff;

const BASE = 2048 + 256; // frame 1 after the headroom: 8-aligned
const LENGTHS = [20, 40, 64, 1448, 1480];
const OFFSETS: [string, number][] = [
  ['aligned', 0],
  ['2mod4', 2],
  ['odd', 1],
];
const KINDS: [string, Uint8Array][] = [
  ['shared', shared],
  ['plain', plain],
];

const filter = process.argv[2] ?? '';
const results: Record<string, number> = {};
let sink = 0;

const suite = new Benchmark.Suite('checksum');
const opts = { maxTime: 0.4, minSamples: 20 };
function add(name: string, fn: () => void): void {
  if (name.includes(filter)) suite.add(name, fn, opts);
}

for (const [kind, buf] of KINDS) {
  for (const len of LENGTHS) {
    for (const [offName, shift] of OFFSETS) {
      const off = BASE + shift;
      add(`sumBytes ${kind} ${len} ${offName}`, () => {
        sink += sumBytes(buf, off, len, 0);
      });
    }
  }
}
for (const [kind, buf] of KINDS) {
  add(`checksum ${kind} 1448 2mod4`, () => {
    sink += checksum(buf, BASE + 2, 1448, 0x1234);
  });
}

// The TX direction copies a payload out of a plain send ring into a UMEM frame, the RX direction
// out of a frame into a plain receive ring; both then need the payload's sum (a fused JS
// copy-and-sum loop measured ~15% slower than set + sumBytes: set is a memcpy). Source and
// destination keep the same offset mod 8 (ByteRing.alignNextWrite arranges that), plus one
// mismatched case.
const COPY_LEN = 1448;
const copies: [string, Uint8Array, number, Uint8Array, number][] = [
  ['tx plain->shared', shared, 4 * 2048 + 256 + 66, plain, 8192 + 2],
  ['rx shared->plain', plain, 8192 + 2, shared, 4 * 2048 + 256 + 66],
  ['tx plain->shared misaligned', shared, 4 * 2048 + 256 + 66, plain, 8192 + 5],
];
for (const [name, dst, dstOff, src, srcOff] of copies) {
  add(`set+sumBytes ${name} ${COPY_LEN}`, () => {
    dst.set(src.subarray(srcOff, srcOff + COPY_LEN), dstOff);
    sink += sumBytes(dst, dstOff, COPY_LEN, 0);
  });
  add(`set only ${name} ${COPY_LEN}`, () => {
    dst.set(src.subarray(srcOff, srcOff + COPY_LEN), dstOff);
    sink += dst[dstOff];
  });
}

suite
  .on('cycle', (event: Benchmark.Event) => {
    const b = event.target;
    const ns = 1e9 / (b.hz ?? 1);
    results[String(b.name)] = Math.round(ns * 10) / 10;
    console.log(
      `${String(b.name).padEnd(48)} ${ns.toFixed(1).padStart(8)} ns/op  ±${b.stats?.rme.toFixed(1)}%`,
    );
  })
  .on('complete', () => {
    if (sink === 0.5) console.log(sink); // keep results live
    console.log(JSON.stringify(results));
  })
  .run();
