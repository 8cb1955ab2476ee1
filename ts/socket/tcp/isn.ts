// Initial sequence numbers per RFC 6528 3: ISN = M + F(localip, localport, remoteip, remoteport,
// secretkey), where M is a timer ticking every 4 microseconds and F a keyed hash. F here is
// SipHash-2-4 (siphash.ts) truncated to 32 bits, as Linux's secure_tcp_seq does: a PRF an
// off-path attacker cannot predict, and cheap enough for a connection setup path (an HMAC through
// node:crypto cost ~15 µs per connection). One 4-tuple's successive incarnations still move
// forward with the clock (the point of M, RFC 9293 3.4.1).

import { randomBytes } from 'node:crypto';
import { SipHash } from './siphash.js';

/** 4 µs per tick (RFC 6528 3, RFC 9293 3.4.1). */
const TICKS_PER_MS = 250;

export class IsnGenerator {
  private readonly sip: SipHash;
  private readonly tuple = new Uint8Array(36);

  /** `secret` defaults to random bytes (16 are used); pass one to make ISNs reproducible. */
  constructor(secret?: Uint8Array) {
    this.sip = new SipHash(secret === undefined ? randomBytes(16) : secret);
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
    t[32] = (localPort >>> 8) & 0xff;
    t[33] = localPort & 0xff;
    t[34] = (remotePort >>> 8) & 0xff;
    t[35] = remotePort & 0xff;
    const f = this.sip.hash(t, 0, t.length);
    const m = Math.floor(nowMs * TICKS_PER_MS) % 0x100000000;
    return (m + f) >>> 0;
  }
}
