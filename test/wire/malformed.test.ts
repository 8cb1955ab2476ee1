// Malformed input is rejected with the right reason and never throws: truncation at every length,
// single-bit corruption, lying length fields, bad header lengths, bad option encodings, hostile
// IPv6 extension chains, Neighbor Discovery rule violations, and random bytes.

import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ArpPacket,
  DROP_REASON_COUNT,
  DropReason,
  EthernetHeader,
  EtherType,
  Icmpv4Header,
  Icmpv6Header,
  IpProtocol,
  Ipv4Header,
  Ipv6Header,
  MAX_EXTENSION_HEADERS,
  ParamProblemCode,
  TcpHeader,
  TcpOptions,
  UdpHeader,
  checksum,
  isIpv4Fragment,
  isIpv6Fragment,
  parseArp,
  parseEthernet,
  parseIcmpv4,
  parseIcmpv6,
  parseIpv4,
  parseIpv6,
  parseTcp4,
  parseTcp6,
  parseTcpOptions,
  parseUdp4,
  parseUdp6,
  pseudoHeaderSum4,
  pseudoHeaderSum6,
  read16,
  write16,
  writeIpv6FragmentHeader,
  writeIpv6Header,
  writeIpv6PaddingOptionsHeader,
} from '../../ts/wire/index.js';
import { CAPTURED, fromHex } from './captured-packets.js';
import { inUmem } from './helpers.js';

const eth = new EthernetHeader();
const arp = new ArpPacket();
const ip4 = new Ipv4Header();
const ip6 = new Ipv6Header();
const icmp4 = new Icmpv4Header();
const icmp6 = new Icmpv6Header();
const udp = new UdpHeader();
const tcp = new TcpHeader();

/** What parseFrame returns for a protocol the wire layer does not parse (the iface's business). */
const UNHANDLED = -1;

/** The whole receive chain, as the iface layer will run it. */
function parseFrame(buf: Uint8Array, off: number, len: number): number {
  let r = parseEthernet(buf, off, len, eth);
  if (r !== DropReason.Ok) return r;
  if (eth.etherType === EtherType.Arp) return parseArp(buf, eth.payloadOff, eth.payloadLen, arp);
  if (eth.etherType === EtherType.Ipv4) {
    r = parseIpv4(buf, eth.payloadOff, eth.payloadLen, ip4);
    if (r !== DropReason.Ok || isIpv4Fragment(ip4)) return r;
    const [o, l] = [ip4.payloadOff, ip4.payloadLen];
    if (ip4.protocol === IpProtocol.Icmp) return parseIcmpv4(buf, o, l, icmp4);
    if (ip4.protocol === IpProtocol.Udp) return parseUdp4(buf, o, l, ip4, udp);
    if (ip4.protocol === IpProtocol.Tcp) return parseTcp4(buf, o, l, ip4, tcp);
  }
  if (eth.etherType === EtherType.Ipv6) {
    r = parseIpv6(buf, eth.payloadOff, eth.payloadLen, ip6);
    if (r !== DropReason.Ok || isIpv6Fragment(ip6)) return r;
    const [o, l] = [ip6.upperOff, ip6.upperLen];
    if (ip6.upperProtocol === IpProtocol.Icmpv6) return parseIcmpv6(buf, o, l, ip6, icmp6);
    if (ip6.upperProtocol === IpProtocol.Udp) return parseUdp6(buf, o, l, ip6, udp);
    if (ip6.upperProtocol === IpProtocol.Tcp) return parseTcp6(buf, o, l, ip6, tcp);
  }
  return UNHANDLED;
}

function frame(hex: string): { buf: Uint8Array; off: number; len: number } {
  const bytes = fromHex(hex);
  return { ...inUmem(bytes), len: bytes.length };
}

const ipFrames = Object.entries(CAPTURED).filter(([name]) => !name.startsWith('arp'));

/** Recompute the IPv4 header checksum after a test edited the header at `ipOff`. */
function fixIpv4(buf: Uint8Array, ipOff: number): void {
  write16(buf, ipOff + 10, 0);
  write16(buf, ipOff + 10, checksum(buf, ipOff, (buf[ipOff] & 0x0f) * 4));
}

/** Recompute an upper-layer checksum (field at `csumAt` within the segment) over IPv4 or IPv6. */
function fixL4(
  buf: Uint8Array,
  ipOff: number,
  l4Off: number,
  len: number,
  proto: number,
  csumAt: number,
): void {
  write16(buf, l4Off + csumAt, 0);
  const v4 = buf[ipOff] >>> 4 === 4;
  const pseudo = v4
    ? pseudoHeaderSum4(
        (read16(buf, ipOff + 12) * 0x10000 + read16(buf, ipOff + 14)) >>> 0,
        (read16(buf, ipOff + 16) * 0x10000 + read16(buf, ipOff + 18)) >>> 0,
        proto,
        len,
      )
    : pseudoHeaderSum6(buf, ipOff + 8, buf, ipOff + 24, proto, len);
  write16(buf, l4Off + csumAt, checksum(buf, l4Off, len, pseudo));
}

describe('wire: malformed input', () => {
  it('every captured frame parses whole, and fails with the right reason cut at every length', () => {
    for (const [name, hex] of Object.entries(CAPTURED)) {
      const { buf, off, len } = frame(hex);
      assert.equal(parseFrame(buf, off, len), DropReason.Ok, name);
      const type = read16(buf, off + 12);
      for (let cut = 0; cut < len; cut++) {
        const l3 = cut - 14;
        let expected: DropReason;
        if (cut < 14) expected = DropReason.EthTruncated;
        else if (type === EtherType.Arp) expected = DropReason.ArpTruncated;
        else if (type === EtherType.Ipv4)
          expected = l3 < 20 ? DropReason.Ipv4Truncated : DropReason.Ipv4TotalLengthExceedsFrame;
        else
          expected = l3 < 40 ? DropReason.Ipv6Truncated : DropReason.Ipv6PayloadLengthExceedsFrame;
        assert.equal(parseFrame(buf, off, cut), expected, `${name} cut at ${cut}`);
      }
    }
  });

  it('upper-layer headers fail with the right reason at every shorter length', () => {
    for (const [name, hex] of ipFrames) {
      const { buf, off, len } = frame(hex);
      assert.equal(parseFrame(buf, off, len), DropReason.Ok);
      const v4 = eth.etherType === EtherType.Ipv4;
      const proto = v4 ? ip4.protocol : ip6.upperProtocol;
      const l4Off = v4 ? ip4.payloadOff : ip6.upperOff;
      const l4Len = v4 ? ip4.payloadLen : ip6.upperLen;
      const tcpHlen = (buf[l4Off + 12] >>> 4) * 4;
      for (let k = 0; k < l4Len; k++) {
        let got: DropReason;
        let expected: DropReason;
        if (proto === IpProtocol.Udp) {
          got = v4 ? parseUdp4(buf, l4Off, k, ip4, udp) : parseUdp6(buf, l4Off, k, ip6, udp);
          expected = k < 8 ? DropReason.UdpTruncated : DropReason.UdpLengthExceedsPacket;
        } else if (proto === IpProtocol.Tcp) {
          got = v4 ? parseTcp4(buf, l4Off, k, ip4, tcp) : parseTcp6(buf, l4Off, k, ip6, tcp);
          expected =
            k < 20
              ? DropReason.TcpTruncated
              : k < tcpHlen
                ? DropReason.TcpDataOffsetExceedsSegment
                : DropReason.TcpBadChecksum;
        } else if (proto === IpProtocol.Icmp) {
          got = parseIcmpv4(buf, l4Off, k, icmp4);
          expected = k < 8 ? DropReason.Icmpv4Truncated : DropReason.Icmpv4BadChecksum;
        } else {
          got = parseIcmpv6(buf, l4Off, k, ip6, icmp6);
          expected = k < 8 ? DropReason.Icmpv6Truncated : DropReason.Icmpv6BadChecksum;
        }
        assert.equal(got, expected, `${name} upper layer cut at ${k}`);
      }
    }
  });

  it('any single-bit error in checksummed bytes is rejected', () => {
    for (const [name, hex] of ipFrames) {
      const { buf, off, len } = frame(hex);
      const v6 = read16(buf, off + 12) === EtherType.Ipv6;
      const nd = v6 && buf[off + 14 + 40] >= 133 && buf[off + 14 + 40] <= 137;
      for (let i = 14; i < len; i++) {
        const inIp = i - 14;
        // IPv6 has no header checksum: traffic class, flow label and (outside ND) hop limit are
        // not covered by anything.
        if (v6 && ((inIp >= 1 && inIp <= 3) || (inIp === 7 && !nd))) continue;
        for (let bit = 0; bit < 8; bit++) {
          if (v6 && inIp === 0 && bit < 4) continue; // traffic class bits in the first byte
          buf[off + i] ^= 1 << bit;
          const r = parseFrame(buf, off, len);
          buf[off + i] ^= 1 << bit;
          assert.notEqual(r, DropReason.Ok, `${name}: byte ${i} bit ${bit}`);
        }
      }
    }
  });

  describe('IPv4', () => {
    const base = (): { buf: Uint8Array; off: number; len: number; ip: number } => {
      const f = frame(CAPTURED.icmpEchoRequest);
      return { ...f, ip: f.off + 14 };
    };

    it('wrong version', () => {
      for (let v = 0; v < 16; v++) {
        if (v === 4) continue;
        const { buf, off, len, ip } = base();
        buf[ip] = (v << 4) | 5;
        fixIpv4(buf, ip);
        assert.equal(parseFrame(buf, off, len), DropReason.Ipv4BadVersion);
      }
    });

    it('IHL below 5, and IHL beyond the frame', () => {
      for (let ihl = 0; ihl < 5; ihl++) {
        const { buf, off, len, ip } = base();
        buf[ip] = 0x40 | ihl;
        assert.equal(parseFrame(buf, off, len), DropReason.Ipv4BadHeaderLength);
      }
      const { buf, ip } = base();
      buf[ip] = 0x4f; // 60 bytes of header in a 40-byte datagram area
      assert.equal(parseIpv4(buf, ip, 40, ip4), DropReason.Ipv4Truncated);
    });

    it('lying total length', () => {
      let f = base();
      write16(f.buf, f.ip + 2, f.len - 14 + 1);
      fixIpv4(f.buf, f.ip);
      assert.equal(parseFrame(f.buf, f.off, f.len), DropReason.Ipv4TotalLengthExceedsFrame);
      for (const total of [0, 1, 19]) {
        f = base();
        write16(f.buf, f.ip + 2, total);
        fixIpv4(f.buf, f.ip);
        assert.equal(parseFrame(f.buf, f.off, f.len), DropReason.Ipv4BadTotalLength);
      }
      // Shorter than the frame is fine (Ethernet padding), but the ICMP message is then cut.
      f = base();
      write16(f.buf, f.ip + 2, 60);
      fixIpv4(f.buf, f.ip);
      assert.equal(parseIpv4(f.buf, f.ip, f.len - 14, ip4), DropReason.Ok);
      assert.equal(ip4.payloadLen, 40);
      assert.equal(parseFrame(f.buf, f.off, f.len), DropReason.Icmpv4BadChecksum);
    });

    it('wrong header checksum', () => {
      const { buf, off, len, ip } = base();
      write16(buf, ip + 10, read16(buf, ip + 10) ^ 0x0100);
      assert.equal(parseFrame(buf, off, len), DropReason.Ipv4BadChecksum);
    });

    it('reserved flag, bad fragments, martian sources', () => {
      let f = base();
      f.buf[f.ip + 6] |= 0x80;
      fixIpv4(f.buf, f.ip);
      assert.equal(parseFrame(f.buf, f.off, f.len), DropReason.Ipv4ReservedFlagSet);
      // MF with a 64-byte payload... fine; with a payload that is not a multiple of 8: bad.
      f = base();
      write16(f.buf, f.ip + 6, 0x2000);
      write16(f.buf, f.ip + 2, 20 + 63);
      fixIpv4(f.buf, f.ip);
      assert.equal(parseIpv4(f.buf, f.ip, f.len - 14, ip4), DropReason.Ipv4BadFragment);
      // Offset 65528 + 64 bytes reaches past 65535: the ping of death.
      f = base();
      write16(f.buf, f.ip + 6, 0x1fff);
      fixIpv4(f.buf, f.ip);
      assert.equal(parseFrame(f.buf, f.off, f.len), DropReason.Ipv4BadFragment);
      for (const src of [0xe0000001, 0xefffffff, 0xffffffff, 0, 0x00010203, 0x7f000001]) {
        f = base();
        write16(f.buf, f.ip + 12, src >>> 16);
        write16(f.buf, f.ip + 14, src & 0xffff);
        fixIpv4(f.buf, f.ip);
        assert.equal(parseFrame(f.buf, f.off, f.len), DropReason.Ipv4BadSource);
      }
    });

    /** The echo request with `opts` (a multiple of 4 bytes) as IPv4 options. */
    function withOptions(opts: number[]): { buf: Uint8Array; off: number; len: number } {
      const orig = fromHex(CAPTURED.icmpEchoRequest);
      const bytes = new Uint8Array(orig.length + opts.length);
      bytes.set(orig.subarray(0, 34));
      bytes.set(opts, 34);
      bytes.set(orig.subarray(34), 34 + opts.length);
      const f = inUmem(bytes);
      f.buf[f.off + 14] = 0x45 + opts.length / 4;
      write16(f.buf, f.off + 16, 84 + opts.length);
      fixIpv4(f.buf, f.off + 14);
      return { ...f, len: bytes.length };
    }

    it('options: valid ones are skipped, truncated or zero-length ones are rejected', () => {
      const ok = [
        [1, 1, 1, 0], // NOPs, EOL
        [0x94, 4, 0, 0], // Router Alert (RFC 2113)
        [7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 1], // Record Route with room for 2, then a NOP
        [0, 0xff, 0xff, 0xff], // after EOL anything is padding
      ];
      for (const opts of ok) {
        const f = withOptions(opts);
        assert.equal(parseFrame(f.buf, f.off, f.len), DropReason.Ok, JSON.stringify(opts));
        assert.equal(ip4.optionsLen, opts.length);
        assert.equal(icmp4.echoSequence, 1);
      }
      const bad = [
        [1, 1, 1, 7], // a type byte with no length byte
        [7, 1, 1, 1], // length 1 is shorter than the type and length bytes
        [7, 0, 0, 0], // length 0 would loop forever
        [7, 5, 0, 0], // runs past the header
        [0x94, 4, 0, 0, 1, 1, 7, 40],
      ];
      for (const opts of bad) {
        const f = withOptions(opts);
        assert.equal(
          parseFrame(f.buf, f.off, f.len),
          DropReason.Ipv4BadOptions,
          JSON.stringify(opts),
        );
      }
    });
  });

  describe('UDP', () => {
    it('lying length, zero checksums and port 0', () => {
      const check = (
        edit: (buf: Uint8Array, u: number) => void,
        fix: boolean,
        expected: DropReason,
      ): void => {
        const { buf, off, len } = frame(CAPTURED.udp6);
        const u = off + 14 + 40;
        edit(buf, u);
        if (fix) fixL4(buf, off + 14, u, 21, IpProtocol.Udp, 6);
        assert.equal(parseFrame(buf, off, len), expected);
      };
      for (const l of [0, 1, 7])
        check((b, u) => write16(b, u + 4, l), false, DropReason.UdpBadLength);
      check((b, u) => write16(b, u + 4, 22), false, DropReason.UdpLengthExceedsPacket);
      check((b, u) => write16(b, u + 6, 0), false, DropReason.Udp6ZeroChecksum);
      check((b, u) => write16(b, u + 2, 0), true, DropReason.UdpBadPort);
      check((b, u) => (b[u + 10] ^= 0x20), false, DropReason.UdpBadChecksum);
      // A UDP length below the IPv6 payload length is accepted; the data stops at the UDP length.
      const { buf, off, len } = frame(CAPTURED.udp6);
      write16(buf, off + 14 + 40 + 4, 20);
      fixL4(buf, off + 14, off + 54, 20, IpProtocol.Udp, 6);
      assert.equal(parseFrame(buf, off, len), DropReason.Ok);
      assert.equal(udp.payloadLen, 12);
    });

    it('over IPv4 a zero checksum means "none" and is accepted', () => {
      const bytes = fromHex(
        '5adadf33cd2ee214d191a4410800' +
          '4500002000004000401100000000000000000000' + // addresses filled in below
          '9c40270f000c00006869210a',
      );
      const { buf, off } = inUmem(bytes);
      write16(buf, off + 26, 0xc612);
      write16(buf, off + 28, 0x4202);
      write16(buf, off + 30, 0xc612);
      write16(buf, off + 32, 0x4201);
      fixIpv4(buf, off + 14);
      assert.equal(parseFrame(buf, off, bytes.length), DropReason.Ok);
      assert.equal(udp.checksum, 0);
      write16(buf, off + 34 + 6, 0x1234);
      assert.equal(parseFrame(buf, off, bytes.length), DropReason.UdpBadChecksum);
    });
  });

  describe('TCP', () => {
    /** The captured SYN with its 20 option bytes replaced (checksum fixed). */
    function synWithOptions(opts: number[]): DropReason {
      const { buf, off, len } = frame(CAPTURED.tcpSyn);
      const t = off + 34;
      for (let i = 0; i < 20; i++) buf[t + 20 + i] = i < opts.length ? opts[i] : 0;
      fixL4(buf, off + 14, t, 40, IpProtocol.Tcp, 16);
      return parseFrame(buf, off, len);
    }

    it('data offset below 5 or beyond the segment', () => {
      for (let doff = 0; doff < 5; doff++) {
        const { buf, off, len } = frame(CAPTURED.tcpSyn);
        buf[off + 34 + 12] = doff << 4;
        assert.equal(parseFrame(buf, off, len), DropReason.TcpBadDataOffset);
      }
      for (let doff = 11; doff < 16; doff++) {
        const { buf, off, len } = frame(CAPTURED.tcpSyn);
        buf[off + 34 + 12] = doff << 4;
        assert.equal(parseFrame(buf, off, len), DropReason.TcpDataOffsetExceedsSegment);
      }
    });

    it('truncated, overlong and wrong-length options', () => {
      assert.equal(synWithOptions([2, 4, 5, 180, 1, 1, 1, 1]), DropReason.Ok);
      assert.equal(
        synWithOptions(new Array(19).fill(1).concat([2])),
        DropReason.TcpOptionTruncated,
      );
      assert.equal(
        synWithOptions([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 8, 10, 0, 0]),
        DropReason.TcpOptionTruncated,
      );
      assert.equal(
        synWithOptions([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 99, 3]),
        DropReason.TcpOptionTruncated,
      );
      assert.equal(synWithOptions([99, 1]), DropReason.TcpBadOptionLength);
      assert.equal(synWithOptions([99, 0]), DropReason.TcpBadOptionLength);
      assert.equal(synWithOptions([2, 3, 5, 1]), DropReason.TcpBadOptionLength);
      assert.equal(synWithOptions([2, 5, 5, 180, 0]), DropReason.TcpBadOptionLength);
      assert.equal(synWithOptions([3, 4, 7, 0]), DropReason.TcpBadOptionLength);
      assert.equal(synWithOptions([4, 3, 0]), DropReason.TcpBadOptionLength);
      assert.equal(synWithOptions([8, 9, 0, 0, 0, 0, 0, 0, 0]), DropReason.TcpBadOptionLength);
      assert.equal(synWithOptions([5, 2]), DropReason.TcpBadOptionLength);
      assert.equal(
        synWithOptions([5, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        DropReason.TcpBadOptionLength,
      );
      // Window scale above 14 is clamped (RFC 7323 2.3), not dropped.
      assert.equal(synWithOptions([3, 3, 15, 0]), DropReason.Ok);
      assert.equal(tcp.options.windowScale, 14);
    });

    it('SACK blocks up to four, and options after EOL ignored', () => {
      const o = new TcpOptions();
      const buf = new Uint8Array(40);
      buf.set([1, 1, 5, 34]);
      for (let i = 0; i < 8; i++) write16(buf, 4 + 4 * i + 2, i + 1);
      assert.equal(parseTcpOptions(buf, 0, 36, o), DropReason.Ok);
      assert.deepEqual(Array.from(o.sackBlocks), [1, 2, 3, 4, 5, 6, 7, 8]);
      assert.equal(o.sackCount, 4);
      buf.fill(0);
      buf.set([0, 2, 3, 4]); // EOL, then what would be a broken MSS
      assert.equal(parseTcpOptions(buf, 0, 4, o), DropReason.Ok);
      assert.equal(o.mss, -1);
    });

    it('port 0 and SYN with FIN or RST', () => {
      const edit = (f: (buf: Uint8Array, t: number) => void): DropReason => {
        const { buf, off, len } = frame(CAPTURED.tcpSyn);
        f(buf, off + 34);
        fixL4(buf, off + 14, off + 34, 40, IpProtocol.Tcp, 16);
        return parseFrame(buf, off, len);
      };
      assert.equal(
        edit((b, t) => write16(b, t, 0)),
        DropReason.TcpBadPort,
      );
      assert.equal(
        edit((b, t) => write16(b, t + 2, 0)),
        DropReason.TcpBadPort,
      );
      assert.equal(
        edit((b, t) => (b[t + 13] = 0x03)),
        DropReason.TcpBadFlags,
      );
      assert.equal(
        edit((b, t) => (b[t + 13] = 0x06)),
        DropReason.TcpBadFlags,
      );
      assert.equal(
        edit((b, t) => (b[t + 13] = 0x12)),
        DropReason.Ok,
      );
    });
  });

  describe('IPv6 and its extension headers', () => {
    it('wrong version, lying payload length, multicast source', () => {
      for (let v = 0; v < 16; v++) {
        if (v === 6) continue;
        const { buf, off, len } = frame(CAPTURED.udp6);
        buf[off + 14] = (v << 4) | (buf[off + 14] & 0x0f);
        assert.equal(parseFrame(buf, off, len), DropReason.Ipv6BadVersion);
      }
      let f = frame(CAPTURED.udp6);
      write16(f.buf, f.off + 18, 22);
      assert.equal(parseFrame(f.buf, f.off, f.len), DropReason.Ipv6PayloadLengthExceedsFrame);
      f = frame(CAPTURED.udp6);
      write16(f.buf, f.off + 18, 0xffff);
      assert.equal(parseFrame(f.buf, f.off, f.len), DropReason.Ipv6PayloadLengthExceedsFrame);
      f = frame(CAPTURED.udp6);
      f.buf[f.off + 22] = 0xff;
      assert.equal(parseFrame(f.buf, f.off, f.len), DropReason.Ipv6BadSource);
    });

    const src = fromHex('20010002000000660000000000000002');
    const dst = fromHex('20010002000000660000000000000001');

    /**
     * An IPv6 packet whose extension chain is built by `chain` (which writes from `at` and returns
     * the next free offset, the first Next Header value), followed by 8 bytes of upper layer.
     */
    function build(
      chain: (buf: Uint8Array, at: number) => [number, number],
      upperLen = 8,
    ): [Uint8Array, number, number] {
      const { buf, off } = inUmem(new Uint8Array(0));
      const [end, first] = chain(buf, off + 40);
      const h = new Ipv6Header();
      Object.assign(h, {
        payloadLength: end - off - 40 + upperLen,
        nextHeader: first,
        hopLimit: 64,
      });
      writeIpv6Header(buf, off, h, src, 0, dst, 0);
      return [buf, off, end - off + upperLen];
    }

    function destOpts(
      n: number,
      upper: number = IpProtocol.Ipv6NoNextHeader,
    ): (buf: Uint8Array, at: number) => [number, number] {
      return (buf, at) => {
        for (let i = 0; i < n; i++) {
          at += writeIpv6PaddingOptionsHeader(
            buf,
            at,
            i + 1 < n ? IpProtocol.Ipv6DestinationOptions : upper,
            8,
          );
        }
        return [at, n > 0 ? IpProtocol.Ipv6DestinationOptions : upper];
      };
    }

    it(`walks up to ${MAX_EXTENSION_HEADERS} extension headers and rejects longer chains`, () => {
      let [buf, off, len] = build(destOpts(MAX_EXTENSION_HEADERS));
      assert.equal(parseIpv6(buf, off, len, ip6), DropReason.Ok);
      assert.equal(ip6.extensionCount, MAX_EXTENSION_HEADERS);
      assert.equal(ip6.upperProtocol, IpProtocol.Ipv6NoNextHeader);
      [buf, off, len] = build(destOpts(MAX_EXTENSION_HEADERS + 1));
      assert.equal(parseIpv6(buf, off, len, ip6), DropReason.Ipv6ExtChainTooLong);
      // A chain of 200 headers costs the same bounded walk.
      [buf, off, len] = build(destOpts(200));
      assert.equal(parseIpv6(buf, off, len, ip6), DropReason.Ipv6ExtChainTooLong);
    });

    it('truncated extension headers', () => {
      // The header claims 16 bytes but the payload ends after 8.
      let [buf, off, len] = build((b, at) => {
        writeIpv6PaddingOptionsHeader(b, at, IpProtocol.Udp, 8);
        b[at + 1] = 1;
        return [at + 8, IpProtocol.Ipv6DestinationOptions];
      }, 0);
      assert.equal(parseIpv6(buf, off, len, ip6), DropReason.Ipv6ExtHeaderTruncated);
      // Fewer than 8 bytes left for the next extension header, at every length.
      for (let cut = 0; cut < 8; cut++) {
        [buf, off, len] = build(destOpts(1, IpProtocol.Ipv6Fragment), cut);
        assert.equal(
          parseIpv6(buf, off, len, ip6),
          DropReason.Ipv6ExtHeaderTruncated,
          `cut ${cut}`,
        );
      }
    });

    it('Hop-by-Hop anywhere but first', () => {
      const [buf, off, len] = build((b, at) => {
        at += writeIpv6PaddingOptionsHeader(b, at, IpProtocol.HopByHop, 8);
        at += writeIpv6PaddingOptionsHeader(b, at, IpProtocol.Udp, 8);
        return [at, IpProtocol.Ipv6DestinationOptions];
      });
      assert.equal(parseIpv6(buf, off, len, ip6), DropReason.Ipv6HopByHopNotFirst);
      assert.equal(ip6.errorCode, ParamProblemCode.UnrecognizedNextHeader);
      assert.equal(ip6.errorPointer, 40);
    });

    it('routing headers with segments left, and options by their action bits', () => {
      let [buf, off, len] = build((b, at) => {
        b.set([IpProtocol.Udp, 0, 4, 1, 0, 0, 0, 0], at);
        return [at + 8, IpProtocol.Ipv6Routing];
      });
      assert.equal(parseIpv6(buf, off, len, ip6), DropReason.Ipv6RoutingUnsupported);
      assert.equal(ip6.errorPointer, 42);
      const withOption = (type: number): DropReason => {
        [buf, off, len] = build((b, at) => {
          b.set([IpProtocol.Udp, 0, type, 2, 0, 0, 1, 0], at);
          return [at + 8, IpProtocol.HopByHop];
        });
        return parseIpv6(buf, off, len, ip6);
      };
      assert.equal(withOption(0x05), DropReason.Ok); // Router Alert: action 00, skipped
      assert.equal(withOption(0x1e), DropReason.Ok); // unknown, action 00: skip
      assert.equal(withOption(0x5e), DropReason.Ipv6UnknownOption); // 01: drop silently
      assert.equal(ip6.errorCode, ParamProblemCode.None);
      assert.equal(withOption(0x9e), DropReason.Ipv6UnknownOption); // 10: drop, Parameter Problem
      assert.deepEqual([ip6.errorCode, ip6.errorPointer, ip6.errorOnlyIfUnicast], [2, 42, false]);
      assert.equal(withOption(0xde), DropReason.Ipv6UnknownOption); // 11: ...unless multicast
      assert.equal(ip6.errorOnlyIfUnicast, true);
      // An option that runs past its header.
      [buf, off, len] = build((b, at) => {
        b.set([IpProtocol.Udp, 0, 1, 5, 0, 0, 0, 0], at);
        return [at + 8, IpProtocol.HopByHop];
      });
      assert.equal(parseIpv6(buf, off, len, ip6), DropReason.Ipv6BadOption);
      [buf, off, len] = build((b, at) => {
        b.set([IpProtocol.Udp, 0, 1, 3, 0, 0, 0, 1], at); // ends with a type byte and no length
        return [at + 8, IpProtocol.HopByHop];
      });
      assert.equal(parseIpv6(buf, off, len, ip6), DropReason.Ipv6BadOption);
    });

    it('fragments: atomic ones are walked through, others stop the walk, bad ones are dropped', () => {
      const frag = (offset: number, more: boolean, upperLen: number): DropReason => {
        const [buf, off, len] = build(
          (b, at) => [
            at + writeIpv6FragmentHeader(b, at, IpProtocol.Udp, offset, more, 7),
            IpProtocol.Ipv6Fragment,
          ],
          upperLen,
        );
        return parseIpv6(buf, off, len, ip6);
      };
      assert.equal(frag(0, false, 8), DropReason.Ok);
      assert.deepEqual(
        [isIpv6Fragment(ip6), ip6.upperProtocol, ip6.fragmentId],
        [false, IpProtocol.Udp, 7],
      );
      assert.equal(frag(0, true, 16), DropReason.Ok);
      assert.deepEqual([isIpv6Fragment(ip6), ip6.upperLen, ip6.moreFragments], [true, 16, true]);
      assert.equal(frag(1480, false, 5), DropReason.Ok);
      assert.deepEqual([isIpv6Fragment(ip6), ip6.fragmentOffset], [true, 1480]);
      assert.equal(frag(0, true, 12), DropReason.Ipv6BadFragment);
      assert.deepEqual([ip6.errorCode, ip6.errorPointer], [0, 4]);
      assert.equal(frag(65528, false, 8), DropReason.Ipv6BadFragment);
      assert.equal(ip6.errorPointer, 42);
    });
  });

  describe('ICMP and Neighbor Discovery', () => {
    /** Edit the ICMPv6 message of a captured ND frame, fix its checksum, parse. */
    function nd(
      hex: string,
      edit: (buf: Uint8Array, ipOff: number, icmpOff: number) => void,
    ): DropReason {
      const { buf, off, len } = frame(hex);
      const ip = off + 14;
      edit(buf, ip, ip + 40);
      fixL4(buf, ip, ip + 40, read16(buf, ip + 4), IpProtocol.Icmpv6, 2);
      return parseFrame(buf, off, len);
    }

    it('ICMPv4: bad codes and short error messages', () => {
      let f = frame(CAPTURED.icmpEchoRequest);
      f.buf[f.off + 35] = 1;
      // ICMPv4 has no pseudo header: the checksum covers the message alone.
      write16(f.buf, f.off + 36, 0);
      write16(f.buf, f.off + 36, checksum(f.buf, f.off + 34, 64));
      assert.equal(parseFrame(f.buf, f.off, f.len), DropReason.Icmpv4BadCode);
      f = frame(CAPTURED.icmpEchoRequest);
      f.buf[f.off + 34] = 3; // Destination Unreachable quoting 56 bytes of nonsense is long enough...
      write16(f.buf, f.off + 36, 0);
      write16(f.buf, f.off + 36, checksum(f.buf, f.off + 34, 64));
      assert.equal(parseFrame(f.buf, f.off, f.len), DropReason.Ok);
      assert.equal(parseIcmpv4(f.buf, f.off + 34, 8 + 27, icmp4), DropReason.Icmpv4BadChecksum);
      write16(f.buf, f.off + 36, 0);
      write16(f.buf, f.off + 36, checksum(f.buf, f.off + 34, 35));
      assert.equal(parseIcmpv4(f.buf, f.off + 34, 35, icmp4), DropReason.Icmpv4ErrorTooShort);
    });

    it('ND: hop limit, code, length, options, targets and addressing rules of RFC 4861', () => {
      assert.equal(
        nd(CAPTURED.neighborSolicitation, () => {}),
        DropReason.Ok,
      );
      assert.equal(
        nd(CAPTURED.neighborSolicitation, (b, ip) => (b[ip + 7] = 254)),
        DropReason.NdBadHopLimit,
      );
      assert.equal(
        nd(CAPTURED.neighborSolicitation, (b, _ip, i) => (b[i + 1] = 1)),
        DropReason.Icmpv6BadCode,
      );
      assert.equal(
        nd(CAPTURED.neighborSolicitation, (b, _ip, i) => (b[i + 8] = 0xff)),
        DropReason.NdBadTarget,
      );
      assert.equal(
        nd(CAPTURED.neighborSolicitation, (b, _ip, i) => (b[i + 25] = 0)),
        DropReason.NdBadOption,
      );
      assert.equal(
        nd(CAPTURED.neighborSolicitation, (b, _ip, i) => (b[i + 25] = 2)),
        DropReason.NdBadOption,
      );
      assert.equal(
        nd(CAPTURED.neighborAdvertisement, (b, _ip, i) => (b[i + 8] = 0xff)),
        DropReason.NdBadTarget,
      );
      // A solicited NA to a multicast destination.
      assert.equal(
        nd(CAPTURED.neighborAdvertisement, (b, ip) => (b[ip + 24] = 0xff)),
        DropReason.NdBadAddressing,
      );
      // DAD probe (from ::) must go to the solicited-node group and carry no source link-layer option.
      assert.equal(
        nd(CAPTURED.dadNeighborSolicitation, () => {}),
        DropReason.Ok,
      );
      assert.equal(
        nd(CAPTURED.dadNeighborSolicitation, (b, ip) => (b[ip + 24 + 1] = 1)),
        DropReason.NdBadAddressing,
      );
      assert.equal(
        nd(CAPTURED.dadNeighborSolicitation, (b, _ip, i) => (b[i + 24] = 1)),
        DropReason.NdBadAddressing,
      );
      // RS from :: with a source link-layer option.
      assert.equal(
        nd(CAPTURED.routerSolicitation, (b, ip) => {
          for (let k = 8; k < 24; k++) b[ip + k] = 0;
        }),
        DropReason.NdBadAddressing,
      );
      // Too short for an NS: shrink the IPv6 payload to 20 bytes.
      assert.equal(
        nd(CAPTURED.neighborSolicitation, (b, ip) => write16(b, ip + 4, 20)),
        DropReason.NdTruncated,
      );
    });
  });

  describe('Ethernet and ARP', () => {
    it('VLAN tags, too many tags, truncated tags, 802.3 length fields, multicast source', () => {
      const orig = fromHex(CAPTURED.icmpEchoRequest);
      const tagged = (tags: number[][]): Uint8Array => {
        const t = tags.flat();
        const out = new Uint8Array(orig.length + t.length);
        out.set(orig.subarray(0, 12));
        out.set(t, 12);
        out.set(orig.subarray(12), 12 + t.length);
        return out;
      };
      const one = tagged([[0x81, 0x00, 0xa0, 0x64]]);
      let f = inUmem(one);
      assert.equal(parseFrame(f.buf, f.off, one.length), DropReason.Ok);
      assert.deepEqual(
        [eth.vlanCount, eth.outerTci, eth.etherType, eth.payloadOff - f.off],
        [1, 0xa064, EtherType.Ipv4, 18],
      );
      const two = tagged([
        [0x88, 0xa8, 0x00, 0x0a],
        [0x81, 0x00, 0x00, 0x14],
      ]);
      f = inUmem(two);
      assert.equal(parseFrame(f.buf, f.off, two.length), DropReason.Ok);
      assert.deepEqual([eth.vlanCount, eth.outerTci, eth.innerTci], [2, 10, 20]);
      const three = tagged([
        [0x88, 0xa8, 0, 1],
        [0x81, 0, 0, 2],
        [0x81, 0, 0, 3],
      ]);
      f = inUmem(three);
      assert.equal(parseFrame(f.buf, f.off, three.length), DropReason.EthTooManyVlanTags);
      for (let cut = 14; cut < 18; cut++) {
        f = inUmem(one);
        assert.equal(
          parseEthernet(f.buf, f.off, cut, eth),
          DropReason.EthVlanTruncated,
          `cut ${cut}`,
        );
      }
      f = inUmem(orig);
      write16(f.buf, f.off + 12, 0x05dc);
      assert.equal(parseFrame(f.buf, f.off, orig.length), DropReason.EthNotEthernetII);
      f = inUmem(orig);
      f.buf[f.off + 6] |= 1;
      assert.equal(parseFrame(f.buf, f.off, orig.length), DropReason.EthSrcMulticast);
    });

    it('ARP for anything but Ethernet/IPv4 requests and replies', () => {
      const check = (at: number, value: number, expected: DropReason): void => {
        const { buf, off, len } = frame(CAPTURED.arpRequest);
        buf[off + 14 + at] = value;
        assert.equal(parseFrame(buf, off, len), expected);
      };
      check(1, 6, DropReason.ArpBadHardwareType);
      check(2, 0x86, DropReason.ArpBadProtocolType);
      check(4, 8, DropReason.ArpBadAddressLength);
      check(5, 16, DropReason.ArpBadAddressLength);
      check(7, 3, DropReason.ArpBadOperation);
      check(7, 0, DropReason.ArpBadOperation);
    });
  });

  describe('random input never throws', () => {
    const anyReason = (r: number): boolean =>
      r === UNHANDLED || (Number.isInteger(r) && r >= 0 && r < DROP_REASON_COUNT);

    it('random bytes through every parser', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(300), (bytes, lenRaw) => {
          const { buf, off } = inUmem(bytes);
          const len = Math.min(lenRaw, bytes.length);
          const results = [
            parseFrame(buf, off, len),
            parseArp(buf, off, len, arp),
            parseIpv4(buf, off, len, ip4),
            parseIpv6(buf, off, len, ip6),
            parseIcmpv4(buf, off, len, icmp4),
            parseTcpOptions(buf, off, Math.min(len, 40), tcp.options),
          ];
          ip6.srcOff = off;
          ip6.dstOff = off;
          ip6.hopLimit = 255;
          results.push(
            parseIcmpv6(buf, off, len, ip6, icmp6),
            parseUdp4(buf, off, len, ip4, udp),
            parseUdp6(buf, off, len, ip6, udp),
            parseTcp4(buf, off, len, ip4, tcp),
            parseTcp6(buf, off, len, ip6, tcp),
          );
          for (const r of results) assert.ok(anyReason(r));
        }),
        { numRuns: 3000 },
      );
    });

    it('mutated and cut captured frames: a reason, or Ok with every offset inside the frame', () => {
      const frames = Object.values(CAPTURED).map(fromHex);
      fc.assert(
        fc.property(
          fc.nat(frames.length - 1),
          fc.array(fc.tuple(fc.nat(200), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
          fc.nat(200),
          (which, edits, cutRaw) => {
            const bytes = frames[which].slice();
            for (const [at, v] of edits) bytes[at % bytes.length] = v;
            const { buf, off } = inUmem(bytes);
            const len = Math.min(cutRaw, bytes.length);
            const r = parseFrame(buf, off, len);
            assert.ok(anyReason(r));
            if (r !== DropReason.Ok) return;
            const inFrame = (o: number, l: number): boolean =>
              o >= off && l >= 0 && o + l <= off + len;
            assert.ok(inFrame(eth.payloadOff, eth.payloadLen));
            if (eth.etherType === EtherType.Ipv4)
              assert.ok(inFrame(ip4.payloadOff, ip4.payloadLen));
            if (eth.etherType === EtherType.Ipv6) assert.ok(inFrame(ip6.upperOff, ip6.upperLen));
          },
        ),
        { numRuns: 3000 },
      );
    });
  });
});
