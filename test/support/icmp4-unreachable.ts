import assert from 'node:assert/strict';
import type { Interface } from '../../ts/iface/interface.js';
import { parseIpv4Address } from '../../ts/wire/address.js';
import { checksum } from '../../ts/wire/checksum.js';

/** The TCP segment an ICMP error quotes (RFC 792: its IP header and first 8 bytes). */
export interface QuotedTcp {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  seq: number;
}

/**
 * Sends from `from` to `to` an ICMP destination unreachable with `code` (1: host unreachable;
 * 4: fragmentation needed, with `mtu`, RFC 1191) quoting a 1500-byte DF segment `quote`, as a
 * router on its path would. RFC 5927 4.1 wants the quoted sequence number in flight.
 */
export function sendIcmp4Unreachable(
  from: { iface: Interface },
  to: string,
  code: number,
  mtu: number,
  quote: QuotedTcp,
): void {
  const len = 8 + 20 + 8;
  const iface = from.iface;
  const at = iface.beginIp4(parseIpv4Address(to), len);
  assert.ok(at >= 0, `beginIp4: ${at}`);
  const b = iface.tx.buf;
  b.fill(0, at, at + len);
  b[at] = 3; // destination unreachable
  b[at + 1] = code;
  b[at + 6] = mtu >>> 8;
  b[at + 7] = mtu & 0xff;
  const q = at + 8;
  b[q] = 0x45;
  b[q + 2] = 1500 >>> 8;
  b[q + 3] = 1500 & 0xff;
  b[q + 6] = 0x40; // DF
  b[q + 8] = 64;
  b[q + 9] = 6;
  const src = parseIpv4Address(quote.src);
  const dst = parseIpv4Address(quote.dst);
  for (let i = 0; i < 4; i++) {
    b[q + 12 + i] = (src >>> (24 - 8 * i)) & 0xff;
    b[q + 16 + i] = (dst >>> (24 - 8 * i)) & 0xff;
  }
  const ck = checksum(b, q, 20);
  b[q + 10] = ck >>> 8;
  b[q + 11] = ck & 0xff;
  const t = q + 20;
  b[t] = quote.sport >>> 8;
  b[t + 1] = quote.sport & 0xff;
  b[t + 2] = quote.dport >>> 8;
  b[t + 3] = quote.dport & 0xff;
  for (let i = 0; i < 4; i++) b[t + 4 + i] = (quote.seq >>> (24 - 8 * i)) & 0xff;
  const ick = checksum(b, at, len);
  b[at + 2] = ick >>> 8;
  b[at + 3] = ick & 0xff;
  assert.equal(iface.finishIp(1, len), 0);
  iface.flush();
}
