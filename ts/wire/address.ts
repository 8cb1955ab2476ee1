// IP address helpers. The predicates read addresses in place and are fine on hot paths; the text
// conversions allocate and are for configuration, logs and tests.

import { read16, write16 } from './bytes.js';

function invalid(what: string, text: string, hint: string): Error {
  return Object.assign(new Error(`'${text}' is not ${what}; ${hint}`), { code: 'EINVAL' });
}

// --- IPv4 ------------------------------------------------------------------------------------

/** "198.18.0.1" to an unsigned 32-bit address; dotted quad only, no leading zeros (like inet_pton). */
export function parseIpv4Address(text: string): number {
  const parts = text.split('.');
  let value = 0;
  if (parts.length !== 4) throw invalid('an IPv4 address', text, 'write it as a.b.c.d');
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part) || Number(part) > 255) {
      throw invalid('an IPv4 address', text, 'each of a.b.c.d is a number 0-255');
    }
    value = value * 256 + Number(part);
  }
  return value;
}

export function formatIpv4Address(addr: number): string {
  return `${addr >>> 24}.${(addr >>> 16) & 0xff}.${(addr >>> 8) & 0xff}.${addr & 0xff}`;
}

export function isIpv4Multicast(addr: number): boolean {
  return addr >>> 28 === 0xe;
}

// --- IPv6 ------------------------------------------------------------------------------------

export function isIpv6Multicast(buf: Uint8Array, off: number): boolean {
  return buf[off] === 0xff;
}

export function isIpv6Unspecified(buf: Uint8Array, off: number): boolean {
  for (let i = 0; i < 16; i++) if (buf[off + i] !== 0) return false;
  return true;
}

/** fe80::/10 (RFC 4291 2.5.6). */
export function isIpv6LinkLocal(buf: Uint8Array, off: number): boolean {
  return buf[off] === 0xfe && (buf[off + 1] & 0xc0) === 0x80;
}

/** ff02::1:ff00:0/104, the solicited-node multicast prefix (RFC 4291 2.7.1). */
export function isIpv6SolicitedNodeMulticast(buf: Uint8Array, off: number): boolean {
  if (buf[off] !== 0xff || buf[off + 1] !== 0x02) return false;
  for (let i = 2; i < 11; i++) if (buf[off + i] !== 0) return false;
  return buf[off + 11] === 0x01 && buf[off + 12] === 0xff;
}

function parseIpv6Words(part: string, allowIpv4Tail: boolean, text: string): number[] {
  if (part === '') return [];
  const words: number[] = [];
  const fields = part.split(':');
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    if (allowIpv4Tail && i === fields.length - 1 && f.includes('.')) {
      const v4 = parseIpv4Address(f);
      words.push(v4 >>> 16, v4 & 0xffff);
    } else if (/^[0-9a-f]{1,4}$/i.test(f)) {
      words.push(parseInt(f, 16));
    } else {
      throw invalid('an IPv6 address', text, 'write it as in RFC 4291 2.2, e.g. 2001:2::1');
    }
  }
  return words;
}

/** Parse RFC 4291 2.2 text (with "::" and an optional dotted IPv4 tail) into 16 bytes at `off`. */
export function parseIpv6AddressInto(text: string, out: Uint8Array, off: number): void {
  const gap = text.indexOf('::');
  let words: number[];
  if (gap < 0) {
    words = parseIpv6Words(text, true, text);
  } else {
    if (text.indexOf('::', gap + 1) >= 0) {
      throw invalid('an IPv6 address', text, '"::" may appear only once');
    }
    const head = parseIpv6Words(text.slice(0, gap), false, text);
    const tail = parseIpv6Words(text.slice(gap + 2), true, text);
    if (head.length + tail.length > 7)
      throw invalid('an IPv6 address', text, 'it has too many groups');
    words = head.concat(new Array<number>(8 - head.length - tail.length).fill(0), tail);
  }
  if (words.length !== 8) throw invalid('an IPv6 address', text, 'it needs 8 groups or "::"');
  for (let i = 0; i < 8; i++) write16(out, off + 2 * i, words[i]);
}

export function parseIpv6Address(text: string): Uint8Array {
  const out = new Uint8Array(16);
  parseIpv6AddressInto(text, out, 0);
  return out;
}

/**
 * 16 bytes at `off` in the RFC 5952 canonical form: lowercase, no leading zeros, the longest run
 * (leftmost on a tie) of two or more zero groups as "::" (4.2), IPv4-mapped as ::ffff:a.b.c.d (5).
 */
export function formatIpv6Address(buf: Uint8Array, off = 0): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push(read16(buf, off + 2 * i));
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) {
    return `::ffff:${formatIpv4Address(((words[6] << 16) | words[7]) >>> 0)}`;
  }
  let bestStart = -1;
  let bestLen = 1; // RFC 5952 4.2.2: a single zero group is not shortened
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]): string => ws.map((w) => w.toString(16)).join(':');
  if (bestStart < 0) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLen))}`;
}
