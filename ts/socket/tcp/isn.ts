// Initial sequence numbers per RFC 6528 3: ISN = M + F(localip, localport, remoteip, remoteport,
// secretkey), where M is a timer ticking every 4 microseconds and F a keyed hash. F here is
// HMAC-SHA-256 truncated to 32 bits, computed once per connection (a cold path), so sequence
// numbers of different 4-tuples are unpredictable to an off-path attacker while one 4-tuple's
// successive incarnations still move forward with the clock (the point of M, RFC 9293 3.4.1).

import { createHmac, randomBytes } from 'node:crypto';

/** 4 µs per tick (RFC 6528 3, RFC 9293 3.4.1). */
const TICKS_PER_MS = 250;

export class IsnGenerator {
  private readonly key: Buffer;
  private readonly tuple = Buffer.alloc(36);

  /** `secret` defaults to 32 random bytes; pass one to make ISNs reproducible in tests. */
  constructor(secret?: Uint8Array) {
    this.key = secret === undefined ? randomBytes(32) : Buffer.from(secret);
  }

  /**
   * The ISN for a connection from (local, localPort) to (remote, remotePort) at `nowMs`.
   * Addresses are 4 (IPv4) or 16 (IPv6) bytes.
   */
  next(
    local: Uint8Array,
    localPort: number,
    remote: Uint8Array,
    remotePort: number,
    nowMs: number,
  ): number {
    const t = this.tuple;
    t.fill(0);
    t.set(local, 0);
    t.set(remote, 16);
    t.writeUInt16BE(localPort & 0xffff, 32);
    t.writeUInt16BE(remotePort & 0xffff, 34);
    const f = createHmac('sha256', this.key).update(t).digest().readUInt32BE(0);
    const m = Math.floor(nowMs * TICKS_PER_MS) % 0x100000000;
    return (m + f) >>> 0;
  }
}
