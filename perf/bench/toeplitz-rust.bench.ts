// Toeplitz hashes per second in Rust (the dispatcher's hasher), beside the TypeScript table
// hasher on the same inputs. One native call hashes a batch of 1M tuples, so the figure is the
// hash itself, not the call. Run: node dist/perf/bench/toeplitz-rust.bench.js
import { DEFAULT_RSS_KEY, ToeplitzHasher } from '../../ts/rss/index.js';
import { nodeXdpDispatch } from '../../ts/dev/dispatch/native-dispatch.js';

const TUPLES = 1 << 20;
const ROUNDS = 5;

function randomBytes(n: number): Uint8Array {
  const buf = new Uint8Array(n);
  let s = 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    buf[i] = s & 0xff;
  }
  return buf;
}

function best(fn: () => void): number {
  let fastest = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    fn();
    fastest = Math.min(fastest, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return TUPLES / fastest;
}

const native = nodeXdpDispatch();
const ts = new ToeplitzHasher(DEFAULT_RSS_KEY);
const out = new Uint32Array(TUPLES);
const rows: Record<string, { rust: number; typescript: number }> = {};
for (const [name, stride] of [
  ['IPv4 4-tuple (12 B)', 12],
  ['IPv6 4-tuple (36 B)', 36],
] as const) {
  const inputs = randomBytes(TUPLES * stride);
  const rust = best(() => native.toeplitzHashMany(DEFAULT_RSS_KEY, inputs, stride, out));
  let sink = 0;
  const typescript = best(() => {
    for (let i = 0; i < TUPLES; i++) sink ^= ts.hash(inputs, i * stride, stride);
  });
  if (sink === 0.5) console.log(sink); // keep the loop's result alive
  rows[name] = { rust, typescript };
  console.log(
    `${name}: Rust ${(rust / 1e6).toFixed(1)} M hashes/s, TypeScript ${(typescript / 1e6).toFixed(
      1,
    )} M hashes/s (${(rust / typescript).toFixed(2)}x)`,
  );
}
console.log(JSON.stringify({ bench: 'toeplitz-rust', hashesPerSecond: rows }));
