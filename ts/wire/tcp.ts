// TCP segments (RFC 9293 3.1) and the options the engine speaks: MSS (RFC 9293 3.2), window scale
// and timestamps (RFC 7323), SACK-permitted and SACK (RFC 2018). Unknown options are skipped by
// their length.

import { read16, read32, write16, write32 } from './bytes.js';
import { checksum, pseudoHeaderSum4, pseudoHeaderSum6 } from './checksum.js';
import { DropReason } from './drop-reason.js';
import { IpProtocol } from './ip-protocol.js';
import type { Ipv4Header } from './ipv4.js';
import type { Ipv6Header } from './ipv6.js';

export const TCP_MIN_HLEN = 20;
export const TCP_MAX_HLEN = 60;
export const TCP_MAX_OPTIONS_LEN = TCP_MAX_HLEN - TCP_MIN_HLEN;

export const TcpFlag = {
  Fin: 0x001,
  Syn: 0x002,
  Rst: 0x004,
  Psh: 0x008,
  Ack: 0x010,
  Urg: 0x020,
  Ece: 0x040,
  Cwr: 0x080,
  Ae: 0x100, // RFC 9768 (AccECN), formerly reserved
} as const;

export const TcpOptionKind = {
  End: 0,
  Nop: 1,
  Mss: 2,
  WindowScale: 3,
  SackPermitted: 4,
  Sack: 5,
  Timestamps: 8,
} as const;

/** RFC 7323 2.3: shifts above 14 are treated as 14. */
export const TCP_MAX_WINDOW_SCALE = 14;
/** Blocks one SACK option can hold in 40 option bytes (RFC 2018 3). */
export const TCP_MAX_SACK_BLOCKS = 4;

export class TcpOptions {
  /** -1 when absent. */
  mss = -1;
  /** -1 when absent; clamped to 14. */
  windowScale = -1;
  sackPermitted = false;
  hasTimestamps = false;
  tsVal = 0;
  tsEcr = 0;
  sackCount = 0;
  /** Left/right edge pairs: block i is [sackBlocks[2i], sackBlocks[2i+1]). */
  readonly sackBlocks = new Uint32Array(2 * TCP_MAX_SACK_BLOCKS);

  clear(): void {
    this.mss = -1;
    this.windowScale = -1;
    this.sackPermitted = false;
    this.hasTimestamps = false;
    this.tsVal = 0;
    this.tsEcr = 0;
    this.sackCount = 0;
  }
}

export class TcpHeader {
  srcPort = 0;
  dstPort = 0;
  seq = 0;
  ack = 0;
  headerLength = 0;
  /** TcpFlag bits, with the reserved bits above them (byte 12 low nibble << 8 | byte 13). */
  flags = 0;
  window = 0;
  checksum = 0;
  urgentPointer = 0;
  optionsOff = 0;
  optionsLen = 0;
  payloadOff = 0;
  payloadLen = 0;
  readonly options = new TcpOptions();
}

function optionLengthOk(kind: number, optLen: number): boolean {
  switch (kind) {
    case TcpOptionKind.Mss:
      return optLen === 4;
    case TcpOptionKind.WindowScale:
      return optLen === 3;
    case TcpOptionKind.SackPermitted:
      return optLen === 2;
    case TcpOptionKind.Timestamps:
      return optLen === 10;
    case TcpOptionKind.Sack:
      return optLen >= 10 && (optLen - 2) % 8 === 0;
    default:
      return optLen >= 2;
  }
}

/** Parse the `len` option bytes at `off` into `out` (cleared first). */
export function parseTcpOptions(
  buf: Uint8Array,
  off: number,
  len: number,
  out: TcpOptions,
): DropReason {
  out.clear();
  const end = off + len;
  let p = off;
  while (p < end) {
    const kind = buf[p];
    if (kind === TcpOptionKind.End) break; // RFC 9293 3.2: the rest is padding
    if (kind === TcpOptionKind.Nop) {
      p++;
      continue;
    }
    if (p + 2 > end) return DropReason.TcpOptionTruncated;
    const optLen = buf[p + 1];
    if (!optionLengthOk(kind, optLen)) return DropReason.TcpBadOptionLength;
    if (p + optLen > end) return DropReason.TcpOptionTruncated;
    readOption(buf, p, kind, optLen, out);
    p += optLen;
  }
  return DropReason.Ok;
}

function readOption(
  buf: Uint8Array,
  p: number,
  kind: number,
  optLen: number,
  out: TcpOptions,
): void {
  switch (kind) {
    case TcpOptionKind.Mss:
      out.mss = read16(buf, p + 2);
      break;
    case TcpOptionKind.WindowScale:
      out.windowScale = Math.min(buf[p + 2], TCP_MAX_WINDOW_SCALE);
      break;
    case TcpOptionKind.SackPermitted:
      out.sackPermitted = true;
      break;
    case TcpOptionKind.Timestamps:
      out.hasTimestamps = true;
      out.tsVal = read32(buf, p + 2);
      out.tsEcr = read32(buf, p + 6);
      break;
    case TcpOptionKind.Sack: {
      const n = (optLen - 2) >>> 3;
      out.sackCount = n;
      for (let i = 0; i < 2 * n; i++) out.sackBlocks[i] = read32(buf, p + 2 + 4 * i);
      break;
    }
  }
}

// Shared checks for a `len`-byte segment whose pseudo-header sum is `pseudo`.
// A negative `pseudo` means the device verified the checksum already.
function parseTcpSegment(
  buf: Uint8Array,
  off: number,
  len: number,
  pseudo: number,
  out: TcpHeader,
): DropReason {
  if (len < TCP_MIN_HLEN) return DropReason.TcpTruncated;
  const hlen = (buf[off + 12] >>> 4) << 2;
  if (hlen < TCP_MIN_HLEN) return DropReason.TcpBadDataOffset;
  if (hlen > len) return DropReason.TcpDataOffsetExceedsSegment;
  if (pseudo >= 0 && checksum(buf, off, len, pseudo) !== 0) return DropReason.TcpBadChecksum;
  const srcPort = read16(buf, off);
  const dstPort = read16(buf, off + 2);
  if (srcPort === 0 || dstPort === 0) return DropReason.TcpBadPort;
  const flags = read16(buf, off + 12) & 0x0fff;
  // SYN with FIN or RST is never legitimate (a scan or a corrupted segment); BSD drops it too.
  if ((flags & TcpFlag.Syn) !== 0 && (flags & (TcpFlag.Fin | TcpFlag.Rst)) !== 0) {
    return DropReason.TcpBadFlags;
  }
  const reason = parseTcpOptions(buf, off + TCP_MIN_HLEN, hlen - TCP_MIN_HLEN, out.options);
  if (reason !== DropReason.Ok) return reason;
  out.srcPort = srcPort;
  out.dstPort = dstPort;
  out.seq = read32(buf, off + 4);
  out.ack = read32(buf, off + 8);
  out.headerLength = hlen;
  out.flags = flags;
  out.window = read16(buf, off + 14);
  out.checksum = read16(buf, off + 16);
  out.urgentPointer = read16(buf, off + 18);
  out.optionsOff = off + TCP_MIN_HLEN;
  out.optionsLen = hlen - TCP_MIN_HLEN;
  out.payloadOff = off + hlen;
  out.payloadLen = len - hlen;
  return DropReason.Ok;
}

/**
 * Parse and verify a TCP segment filling the `len`-byte payload of `ip`; `checksumVerified`: the
 * device checked the checksum (FrameDevice.rxChecksumOk), so it is not summed again.
 */
export function parseTcp4(
  buf: Uint8Array,
  off: number,
  len: number,
  ip: Ipv4Header,
  out: TcpHeader,
  checksumVerified = false,
): DropReason {
  const pseudo = checksumVerified ? -1 : pseudoHeaderSum4(ip.src, ip.dst, IpProtocol.Tcp, len);
  return parseTcpSegment(buf, off, len, pseudo, out);
}

/** Parse and verify a TCP segment filling the `len`-byte upper-layer payload of `ip` (same buffer). */
export function parseTcp6(
  buf: Uint8Array,
  off: number,
  len: number,
  ip: Ipv6Header,
  out: TcpHeader,
  checksumVerified = false,
): DropReason {
  const pseudo = checksumVerified
    ? -1
    : pseudoHeaderSum6(buf, ip.srcOff, buf, ip.dstOff, IpProtocol.Tcp, len);
  return parseTcpSegment(buf, off, len, pseudo, out);
}

function writeNops(buf: Uint8Array, p: number, count: number): number {
  for (let i = 0; i < count; i++) buf[p + i] = TcpOptionKind.Nop;
  return p + count;
}

/**
 * Write `o` in the order and 4-byte-aligned layout Linux uses (tcp_options_write): MSS; timestamps
 * (SACK-permitted folded into their padding); SACK-permitted alone; window scale; SACK blocks, as
 * many as fit in 40 bytes. Returns the bytes written, a multiple of 4.
 */
export function writeTcpOptions(buf: Uint8Array, off: number, o: TcpOptions): number {
  let p = off;
  if (o.mss >= 0) {
    buf[p] = TcpOptionKind.Mss;
    buf[p + 1] = 4;
    write16(buf, p + 2, o.mss);
    p += 4;
  }
  if (o.hasTimestamps) {
    if (o.sackPermitted) {
      buf[p] = TcpOptionKind.SackPermitted;
      buf[p + 1] = 2;
      p += 2;
    } else {
      p = writeNops(buf, p, 2);
    }
    buf[p] = TcpOptionKind.Timestamps;
    buf[p + 1] = 10;
    write32(buf, p + 2, o.tsVal);
    write32(buf, p + 6, o.tsEcr);
    p += 10;
  } else if (o.sackPermitted) {
    p = writeNops(buf, p, 2);
    buf[p] = TcpOptionKind.SackPermitted;
    buf[p + 1] = 2;
    p += 2;
  }
  if (o.windowScale >= 0) {
    p = writeNops(buf, p, 1);
    buf[p] = TcpOptionKind.WindowScale;
    buf[p + 1] = 3;
    buf[p + 2] = o.windowScale;
    p += 3;
  }
  const room = (off + TCP_MAX_OPTIONS_LEN - p - 4) >> 3;
  const blocks = Math.min(o.sackCount, room);
  if (blocks > 0) {
    p = writeNops(buf, p, 2);
    buf[p] = TcpOptionKind.Sack;
    buf[p + 1] = 2 + 8 * blocks;
    p += 2;
    for (let i = 0; i < 2 * blocks; i++, p += 4) write32(buf, p, o.sackBlocks[i]);
  }
  return p - off;
}

/**
 * Write the header from h's ports, seq, ack, flags, window and urgentPointer, then `options` (if
 * any), with the data offset to match and a zero checksum (finish with setTcp4Checksum or
 * setTcp6Checksum). Returns the header length.
 */
export function writeTcpHeader(
  buf: Uint8Array,
  off: number,
  h: TcpHeader,
  options: TcpOptions | null,
): number {
  const hlen =
    TCP_MIN_HLEN + (options === null ? 0 : writeTcpOptions(buf, off + TCP_MIN_HLEN, options));
  write16(buf, off, h.srcPort);
  write16(buf, off + 2, h.dstPort);
  write32(buf, off + 4, h.seq);
  write32(buf, off + 8, h.ack);
  write16(buf, off + 12, ((hlen >>> 2) << 12) | (h.flags & 0x0fff));
  write16(buf, off + 14, h.window);
  write16(buf, off + 16, 0);
  write16(buf, off + 18, h.urgentPointer);
  return hlen;
}

/** Fill in the checksum of the `len`-byte segment at `off` (its checksum field must be 0). */
export function setTcp4Checksum(
  buf: Uint8Array,
  off: number,
  len: number,
  src: number,
  dst: number,
): void {
  write16(buf, off + 16, checksum(buf, off, len, pseudoHeaderSum4(src, dst, IpProtocol.Tcp, len)));
}

export function setTcp6Checksum(
  buf: Uint8Array,
  off: number,
  len: number,
  src: Uint8Array,
  srcOff: number,
  dst: Uint8Array,
  dstOff: number,
): void {
  const pseudo = pseudoHeaderSum6(src, srcOff, dst, dstOff, IpProtocol.Tcp, len);
  write16(buf, off + 16, checksum(buf, off, len, pseudo));
}
