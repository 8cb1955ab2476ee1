// SYN cookies (RFC 4987 3.6): when a listener's SYN queue is full the SYN-ACK's ISN encodes what
// the connection needs, so no state is kept until the final ACK returns it. Layout as Linux:
// top 5 bits a one-minute counter (Linux TCP_SYNCOOKIE_PERIOD), 3 bits an MSS table index, 24
// bits of SipHash-2-4 (siphash.ts) over the 4-tuple, the counter and the peer's ISN, keyed by a
// random per-stack secret, so an off-path attacker cannot forge or predict a cookie (RFC 4987
// 3.6; Linux also keys its cookies with SipHash). With timestamps, window scale and SACK-permitted ride in the
// low 5 bits of our TSval (Linux cookie_init_timestamp), which the peer echoes.

import { randomBytes } from 'node:crypto';
import { SipHash } from './siphash.js';
import { seqGt } from './seq.js';

/** MSS values a cookie can carry; the largest not above the peer's MSS is used. */
export const COOKIE_MSS_TABLE = [536, 1220, 1300, 1360, 1400, 1440, 1460, 8960] as const;
/** Linux MAX_SYNCOOKIE_AGE: cookies from the current and the previous counter values. */
const MAX_AGE = 2;
const PERIOD_MS = 60_000;
/** TSval low bits: 4 bits window scale (15 = none), 1 bit SACK-permitted. */
const TS_WSCALE_NONE = 15;

export class SynCookies {
  private readonly sip: SipHash;
  /** The hashed message, reused: remote (4 words), local (4), ports, counter, peer ISN. */
  private readonly words = new Uint32Array(11);

  /** `secret`: 16 bytes (random when omitted: one secret per stack, as Linux per boot). */
  constructor(secret?: Uint8Array) {
    this.sip = new SipHash(secret ?? randomBytes(16));
  }

  /**
   * Keyed hash of the tuple (remote and local as four 32-bit words each: an IPv4 address is one
   * word and three zeros), the ports, the counter and the peer's ISN.
   */
  private hash(
    remote: Uint32Array,
    local: Uint32Array,
    ports: number,
    counter: number,
    irs: number,
  ): number {
    const w = this.words;
    for (let i = 0; i < 4; i++) {
      w[i] = remote[i];
      w[4 + i] = local[i];
    }
    w[8] = ports;
    w[9] = counter;
    w[10] = irs;
    return this.sip.hashWords(w, 11) >>> 0;
  }

  /** The cookie ISN for a SYN with sequence `irs` and MSS `peerMss` at `nowMs`. */
  make(
    remote: Uint32Array,
    local: Uint32Array,
    ports: number,
    irs: number,
    peerMss: number,
    nowMs: number,
  ): number {
    const counter = Math.floor(nowMs / PERIOD_MS) & 31;
    let m = 0;
    for (let i = COOKIE_MSS_TABLE.length - 1; i > 0; i--) {
      if (COOKIE_MSS_TABLE[i] <= peerMss) {
        m = i;
        break;
      }
    }
    const h = this.hash(remote, local, ports, counter, irs) & 0xffffff;
    return ((counter << 27) | (m << 24) | h) >>> 0;
  }

  /**
   * The MSS encoded in `cookie` (our ISN, i.e. the ACK's ack - 1) when it is valid for this
   * tuple and the peer's ISN (seq - 1) now; -1 otherwise.
   */
  check(
    remote: Uint32Array,
    local: Uint32Array,
    ports: number,
    irs: number,
    cookie: number,
    nowMs: number,
  ): number {
    const counter = cookie >>> 27;
    const age = (Math.floor(nowMs / PERIOD_MS) - counter) & 31;
    if (age >= MAX_AGE) return -1;
    const h = this.hash(remote, local, ports, counter, irs) & 0xffffff;
    if (h !== (cookie & 0xffffff)) return -1;
    return COOKIE_MSS_TABLE[(cookie >>> 24) & 7];
  }
}

/**
 * Our TSval in a cookie SYN-ACK: the clock (with no per-connection offset, which the connection
 * rebuilt from the cookie keeps) with window scale and SACK-permitted in the low bits, never ahead
 * of the clock, or the peer's PAWS would drop our next segments (Linux cookie_init_timestamp).
 */
export function cookieTsVal(nowMs: number, windowScale: number, sackOk: boolean): number {
  const w = windowScale < 0 ? TS_WSCALE_NONE : windowScale;
  // TSvals live modulo 2^32 (RFC 7323 5.2) and the clock reads far more than that (ms since
  // 1970): compare there. A plain `ts > now` compared a 32-bit value with the whole reading and
  // never held, so the cookie TSval was up to 31 ms ahead of the clock and the connection's
  // first segments, read from that clock, failed the peer's PAWS check (RFC 7323 5.3 R1).
  const now = Math.floor(nowMs) >>> 0;
  const ts = ((now & ~0x1f) | (sackOk ? 0x10 : 0) | w) >>> 0;
  return seqGt(ts, now) ? (ts - 0x20) >>> 0 : ts;
}

/** The peer's window scale from an echoed cookie TSval, -1 when it offered none. */
export function cookieWindowScale(tsEcr: number): number {
  const w = tsEcr & 0xf;
  return w === TS_WSCALE_NONE ? -1 : w;
}

export function cookieSackOk(tsEcr: number): boolean {
  return (tsEcr & 0x10) !== 0;
}
