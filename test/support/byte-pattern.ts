/** Bytes that differ with position and seed: a payload whose every byte a receiver can check. */
export function pattern(len: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i++) out[i] = (i * 131 + seed * 17 + (i >>> 8)) & 0xff;
  return out;
}
