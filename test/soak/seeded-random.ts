// Makes a soak run repeat exactly from its seed. The stacks pick ephemeral ports and IP IDs with
// Math.random (ts/socket/tcp/conn-setup.ts, ts/iface/ip-output.ts) and have no option to take a
// generator, and a port choice decides whether a new connection meets an old TIME-WAIT; so for
// the length of the run Math.random draws from a seeded xoshiro128** instead.
import { Xoshiro128 } from '../../ts/dev/memory/prng.js';

/** Runs `body` with Math.random seeded from `seed`; the real one is back afterwards. */
export async function withSeededRandom<T>(seed: number, body: () => Promise<T>): Promise<T> {
  const real = Math.random;
  const rng = new Xoshiro128(seed ^ 0x6d2b79f5);
  Math.random = () => rng.next();
  try {
    return await body();
  } finally {
    Math.random = real;
  }
}

/** 16 bytes from `seed` (ISN and SYN-cookie secrets that repeat with the run). */
export function seededSecret(seed: number): Uint8Array {
  const rng = new Xoshiro128(seed);
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = rng.nextU32() & 0xff;
  return out;
}
