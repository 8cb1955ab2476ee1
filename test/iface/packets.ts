// Packet builders and a raw test peer for interface tests: the peer is the other end of a memory
// pair (or any FrameDevice) that sends hand-built frames and collects copies of what it receives.
import {
  ArpOperation,
  EtherType,
  IpProtocol,
  Ipv4Header,
  Ipv6Header,
  parseIpv6AddressInto,
  parseMac,
  pseudoHeaderSum4,
  setIcmpv6Checksum,
  setUdp4Checksum,
  setUdp6Checksum,
  writeArp,
  writeEthernetHeader,
  writeIcmpv4Header,
  writeIcmpv6Header,
  writeIpv4Header,
  writeIpv6FragmentHeader,
  writeIpv6Header,
  writeUdpHeader,
  parseIpv4Address,
  checksum,
  write16,
} from '../../ts/wire/index.js';
import type { FrameDevice } from '../../ts/dev/frame-device.js';

export const ENGINE_MAC = '02:00:00:00:00:01';
export const PEER_MAC = '02:00:00:00:00:02';
export const ENGINE_IP4 = '198.18.7.1';
export const PEER_IP4 = '198.18.7.2';
export const ENGINE_IP6 = '2001:2:0:7::1';
export const PEER_IP6 = '2001:2:0:7::2';
export const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';

export function mac(text: string): Uint8Array {
  return parseMac(text);
}

export function ip4(text: string): number {
  return parseIpv4Address(text);
}

export function ip6(text: string): Uint8Array {
  const out = new Uint8Array(16);
  parseIpv6AddressInto(text, out, 0);
  return out;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function eth(
  dst: string | Uint8Array,
  src: string | Uint8Array,
  type: number,
  payload: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(14 + payload.length);
  const d = typeof dst === 'string' ? mac(dst) : dst;
  const s = typeof src === 'string' ? mac(src) : src;
  writeEthernetHeader(out, 0, d, 0, s, 0, type);
  out.set(payload, 14);
  return out;
}

export function arp(op: number, smac: string, sip: string, tmac: string, tip: string): Uint8Array {
  const out = new Uint8Array(28);
  writeArp(out, 0, op, mac(smac), 0, ip4(sip), mac(tmac), 0, ip4(tip));
  return out;
}

export function arpRequestFrame(from: string, fromIp: string, forIp: string): Uint8Array {
  return eth(
    BROADCAST_MAC,
    from,
    EtherType.Arp,
    arp(ArpOperation.Request, from, fromIp, '00:00:00:00:00:00', forIp),
  );
}

export interface Ipv4Opts {
  id?: number;
  df?: boolean;
  mf?: boolean;
  fragOffset?: number;
  ttl?: number;
}

export function ipv4(
  src: string,
  dst: string,
  proto: number,
  payload: Uint8Array,
  o: Ipv4Opts = {},
): Uint8Array {
  const out = new Uint8Array(20 + payload.length);
  const h = new Ipv4Header();
  h.headerLength = 20;
  h.totalLength = out.length;
  h.identification = o.id ?? 1;
  h.dontFragment = o.df ?? false;
  h.moreFragments = o.mf ?? false;
  h.fragmentOffset = o.fragOffset ?? 0;
  h.ttl = o.ttl ?? 64;
  h.protocol = proto;
  h.src = ip4(src);
  h.dst = ip4(dst);
  out.set(payload, 20);
  writeIpv4Header(out, 0, h);
  return out;
}

export function icmp4(type: number, code: number, rest: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + data.length);
  out.set(data, 8);
  writeIcmpv4Header(out, 0, type, code, rest, out.length);
  return out;
}

export function pattern(len: number, seed = 1): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = (i * 31 + seed * 7) & 0xff;
  return out;
}

export function udp4(
  src: string,
  dst: string,
  sport: number,
  dport: number,
  data: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(8 + data.length);
  writeUdpHeader(out, 0, sport, dport, out.length);
  out.set(data, 8);
  setUdp4Checksum(out, 0, out.length, ip4(src), ip4(dst));
  return out;
}

/** Splits a whole IPv4 datagram (20-byte header) into fragments of at most `mtu` bytes. */
export function fragment4(datagram: Uint8Array, mtu: number): Uint8Array[] {
  const payload = datagram.subarray(20);
  const chunk = ((mtu - 20) >> 3) << 3;
  const out: Uint8Array[] = [];
  for (let o = 0; o < payload.length; o += chunk) {
    out.push(
      fragment4At(datagram, o, Math.min(chunk, payload.length - o), o + chunk < payload.length),
    );
  }
  return out;
}

/** One IPv4 fragment of `datagram` covering payload [offset, offset + len). */
export function fragment4At(
  datagram: Uint8Array,
  offset: number,
  len: number,
  more: boolean,
): Uint8Array {
  const f = new Uint8Array(20 + len);
  f.set(datagram.subarray(0, 20), 0);
  f.set(datagram.subarray(20 + offset, 20 + offset + len), 20);
  write16(f, 2, 20 + len);
  write16(f, 6, (more ? 0x2000 : 0) | (offset >> 3));
  write16(f, 10, 0);
  write16(f, 10, checksum(f, 0, 20));
  return f;
}

export function ipv6(
  src: Uint8Array,
  dst: Uint8Array,
  next: number,
  payload: Uint8Array,
  hop = 64,
): Uint8Array {
  const out = new Uint8Array(40 + payload.length);
  const h = new Ipv6Header();
  h.payloadLength = payload.length;
  h.nextHeader = next;
  h.hopLimit = hop;
  writeIpv6Header(out, 0, h, src, 0, dst, 0);
  out.set(payload, 40);
  return out;
}

export function icmp6(
  src: Uint8Array,
  dst: Uint8Array,
  type: number,
  code: number,
  rest: number,
  body: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(8 + body.length);
  writeIcmpv6Header(out, 0, type, code, rest >>> 0);
  out.set(body, 8);
  setIcmpv6Checksum(out, 0, out.length, src, 0, dst, 0);
  return out;
}

export function udp6(
  src: Uint8Array,
  dst: Uint8Array,
  sport: number,
  dport: number,
  data: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(8 + data.length);
  writeUdpHeader(out, 0, sport, dport, out.length);
  out.set(data, 8);
  setUdp6Checksum(out, 0, out.length, src, 0, dst, 0);
  return out;
}

/** IPv6 fragments of an upper-layer payload `upper` (Next Header `next`), fragmentable part only. */
export function fragment6(
  src: Uint8Array,
  dst: Uint8Array,
  next: number,
  upper: Uint8Array,
  chunk: number,
  id: number,
): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let o = 0; o < upper.length; o += chunk) {
    out.push(
      fragment6At(
        src,
        dst,
        next,
        upper,
        o,
        Math.min(chunk, upper.length - o),
        o + chunk < upper.length,
        id,
      ),
    );
  }
  return out;
}

export function fragment6At(
  src: Uint8Array,
  dst: Uint8Array,
  next: number,
  upper: Uint8Array,
  offset: number,
  len: number,
  more: boolean,
  id: number,
): Uint8Array {
  const fh = new Uint8Array(8 + len);
  writeIpv6FragmentHeader(fh, 0, next, offset, more, id);
  fh.set(upper.subarray(offset, offset + len), 8);
  return ipv6(src, dst, IpProtocol.Ipv6Fragment, fh);
}

/** A TCP-looking 20-byte header with ports (for ICMP quotes); not checksummed. */
export function fakeTransportHeader(sport: number, dport: number): Uint8Array {
  const out = new Uint8Array(20);
  write16(out, 0, sport);
  write16(out, 2, dport);
  return out;
}

export { pseudoHeaderSum4 };

/** The far end of a memory pair, driven by hand. */
export class RawPeer {
  constructor(readonly dev: FrameDevice) {}

  send(frame: Uint8Array): void {
    const base = this.dev.allocate();
    if (base < 0) throw new Error('peer has no free frame');
    const addr = base + this.dev.txDataOffset;
    this.dev.bytes.set(frame, this.dev.umemOffset + addr);
    if (!this.dev.send(addr, frame.length)) throw new Error('peer send refused');
    this.dev.flush();
  }

  /** Copies of every frame waiting, released at once. */
  receive(): Uint8Array[] {
    const out: Uint8Array[] = [];
    this.dev.reap();
    for (;;) {
      const n = this.dev.receive();
      if (n === 0) return out;
      for (let i = 0; i < n; i++) {
        const addr = this.dev.rxDesc[2 * i];
        const len = this.dev.rxDesc[2 * i + 1];
        const off = this.dev.umemOffset + addr;
        out.push(this.dev.bytes.slice(off, off + len));
        this.dev.release(addr);
      }
    }
  }
}

export { IpProtocol, EtherType, ArpOperation };
