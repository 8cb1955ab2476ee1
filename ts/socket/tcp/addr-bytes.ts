// Address bytes as the stack's tables hold them: IPv4 addresses as unsigned integers, IPv6 ones
// as 16 bytes at an offset (in a TcpConn, a listener, or the received frame itself, so a lookup
// copies nothing).

export function read32(b: Uint8Array, off: number): number {
  return ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
}

export function eq16(a: Uint8Array, b: Uint8Array, off: number): boolean {
  for (let i = 0; i < 16; i++) if (a[i] !== b[off + i]) return false;
  return true;
}

export function isZero16(a: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (a[i] !== 0) return false;
  return true;
}

export function writeV4(b: Uint8Array, v: number): void {
  b[0] = v >>> 24;
  b[1] = (v >>> 16) & 0xff;
  b[2] = (v >>> 8) & 0xff;
  b[3] = v & 0xff;
}

/** A fresh 4-byte copy of an IPv4 address (cold path: connect()). */
export function v4Bytes(addr: number): Uint8Array {
  const b = new Uint8Array(4);
  writeV4(b, addr);
  return b;
}
