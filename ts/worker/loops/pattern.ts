// The test payload that xdpnet-peer sends and checks, so either side can verify every byte:
// bytes 0..7 are the sequence number (u64, big endian), byte i >= 8 is (seq + i) & 0xff.

/** Writes the pattern for `seq` into bytes[off, off + len). */
export function writePattern(bytes: Uint8Array, off: number, len: number, seq: number): void {
  const head = len < 8 ? len : 8;
  // Sequence numbers stay below 2^53, so the top bytes come from a division, not a shift.
  let hi = Math.floor(seq / 0x100000000);
  let lo = seq >>> 0;
  for (let i = 7; i >= 0; i--) {
    const byte = i >= 4 ? lo & 0xff : hi & 0xff;
    if (i < head) bytes[off + i] = byte;
    if (i >= 4) lo >>>= 8;
    else hi >>>= 8;
  }
  for (let i = 8; i < len; i++) bytes[off + i] = (seq + i) & 0xff;
}

/** The sequence number of a pattern of at least 8 bytes, or -1 if any byte is wrong. */
export function checkPattern(bytes: Uint8Array, off: number, len: number): number {
  if (len < 8) return -1;
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < 4; i++) hi = hi * 256 + bytes[off + i];
  for (let i = 4; i < 8; i++) lo = lo * 256 + bytes[off + i];
  const seq = hi * 0x100000000 + lo;
  for (let i = 8; i < len; i++) {
    if (bytes[off + i] !== ((seq + i) & 0xff)) return -1;
  }
  return seq;
}
