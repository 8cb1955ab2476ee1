// Micro-benchmarks for the wire layer: parsing an Ethernet/IPv4/UDP frame in place and the Internet
// checksum over a full-size UDP payload, each beside a plain baseline measured in the same run.
// Run: npx tsc -p tsconfig.json && node dist/perf/bench/wire.bench.js

import Benchmark from 'benchmark';
import {
  DropReason,
  EthernetHeader,
  EtherType,
  IpProtocol,
  Ipv4Header,
  UdpHeader,
  checksum,
  parseEthernet,
  parseIpv4,
  parseUdp4,
  setUdp4Checksum,
  writeEthernetHeader,
  writeIpv4Header,
  writeUdpHeader,
} from '../../ts/wire/index.js';

const FRAME = 2048;
const umem = new Uint8Array(new SharedArrayBuffer(16 * FRAME));
const mac = new Uint8Array([0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2]);
const ip = new Ipv4Header();

/** An Eth/IPv4/UDP frame with `payload` bytes at frame `index` (256 bytes of headroom). */
function buildFrame(index: number, payload: number): { off: number; len: number } {
  const off = index * FRAME + 256;
  for (let i = 0; i < payload; i++) umem[off + 42 + i] = (i * 7) & 0xff;
  writeEthernetHeader(umem, off, mac, 0, mac, 6, EtherType.Ipv4);
  Object.assign(ip, {
    headerLength: 20,
    totalLength: 28 + payload,
    identification: 1,
    dontFragment: true,
    ttl: 64,
    protocol: IpProtocol.Udp,
    src: 0xc6120002,
    dst: 0xc6120001,
  });
  writeIpv4Header(umem, off + 14, ip);
  writeUdpHeader(umem, off + 34, 40000, 9999, 8 + payload);
  setUdp4Checksum(umem, off + 34, 8 + payload, ip.src, ip.dst);
  return { off, len: 42 + payload };
}

const small = buildFrame(1, 18); // a 60-byte frame
const large = buildFrame(2, 1472); // a 1514-byte frame

const eth = new EthernetHeader();
const ip4 = new Ipv4Header();
const udp = new UdpHeader();
let sink = 0;

function parseFrame(off: number, len: number): number {
  let r = parseEthernet(umem, off, len, eth);
  if (r !== DropReason.Ok) return r;
  r = parseIpv4(umem, eth.payloadOff, eth.payloadLen, ip4);
  if (r !== DropReason.Ok) return r;
  return parseUdp4(umem, ip4.payloadOff, ip4.payloadLen, ip4, udp);
}

// Baselines: the same three layers and checks written the straightforward way (a DataView per
// packet, the textbook checksum loop), and that checksum loop alone.
function baselineParse(off: number, len: number): number {
  const dv = new DataView(umem.buffer, off, len);
  if (len < 14 || dv.getUint16(12) !== 0x0800) return 1;
  const vihl = dv.getUint8(14);
  const hlen = (vihl & 0x0f) * 4;
  const total = dv.getUint16(16);
  if (vihl >> 4 !== 4 || hlen < 20 || total < hlen || 14 + total > len) return 2;
  if (naiveChecksum(umem, off + 14, hlen) !== 0) return 3;
  if (dv.getUint8(23) !== 17) return 4;
  const u = 14 + hlen;
  const ulen = dv.getUint16(u + 4);
  if (ulen < 8 || ulen > total - hlen) return 5;
  let pseudo = 17 + ulen;
  for (let i = 26; i < 34; i += 2) pseudo += dv.getUint16(i);
  if (dv.getUint16(u + 6) !== 0 && naiveChecksum(umem, off + u, ulen, pseudo) !== 0) return 6;
  return dv.getUint16(u) + dv.getUint16(u + 2) > 0 ? 0 : 7;
}

function naiveChecksum(buf: Uint8Array, off: number, len: number, initial = 0): number {
  let sum = (initial & 0xffff) + Math.floor(initial / 0x10000);
  for (let i = 0; i < len; i += 2) {
    sum += (buf[off + i] << 8) | (i + 1 < len ? buf[off + i + 1] : 0);
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  return ~sum & 0xffff;
}

if (parseFrame(small.off, small.len) !== 0 || parseFrame(large.off, large.len) !== 0) {
  throw new Error('benchmark frames do not parse');
}
if (baselineParse(small.off, small.len) !== 0 || baselineParse(large.off, large.len) !== 0) {
  throw new Error('baseline does not parse the benchmark frames');
}
if (naiveChecksum(umem, large.off + 42, 1472) !== checksum(umem, large.off + 42, 1472)) {
  throw new Error('checksums disagree');
}

const suite = new Benchmark.Suite('wire');
suite
  .add('parse eth/ipv4/udp, 60-byte frame', () => {
    sink += parseFrame(small.off, small.len);
  })
  .add('parse eth/ipv4/udp, 1514-byte frame (UDP checksum verified)', () => {
    sink += parseFrame(large.off, large.len);
  })
  .add('baseline: DataView + textbook checksums, 60-byte frame', () => {
    sink += baselineParse(small.off, small.len);
  })
  .add('baseline: DataView + textbook checksums, 1514-byte frame', () => {
    sink += baselineParse(large.off, large.len);
  })
  .add('checksum 1472 bytes (frame offset 42, 32-bit loads)', () => {
    sink += checksum(umem, large.off + 42, 1472);
  })
  .add('checksum 1472 bytes (odd offset, 16-bit loop)', () => {
    sink += checksum(umem, large.off + 41, 1472);
  })
  .add('baseline: textbook checksum 1472 bytes', () => {
    sink += naiveChecksum(umem, large.off + 42, 1472);
  })
  .add('checksum 20-byte IPv4 header', () => {
    sink += checksum(umem, large.off + 14, 20);
  })
  .on('cycle', (event: Benchmark.Event) => {
    const b = event.target;
    const ns = 1e9 / (b.hz ?? 1);
    console.log(
      `${String(b.name).padEnd(62)} ${ns.toFixed(1).padStart(8)} ns/op  ±${b.stats?.rme.toFixed(1)}%`,
    );
  })
  .on('complete', () => {
    if (sink === 0.5) console.log(sink); // keep results live
  })
  .run();
