// An Interface on port a of a memory pair on virtual time, a RawPeer on port b, and a transport
// that records what it gets. After each test: close, settle, and audit every frame.
import assert from 'node:assert/strict';
import { VirtualClock } from '../../ts/dev/memory/clock.js';
import { Interface, type InterfaceOptions } from '../../ts/iface/interface.js';
import type { InterfaceConfig } from '../../ts/iface/config.js';
import { SharedNeighbourTable } from '../../ts/iface/neighbour-table.js';
import {
  InputResult,
  type IcmpErrorInfo,
  type RxDatagram,
  type TransportHandler,
} from '../../ts/iface/transport.js';
import {
  EthernetHeader,
  Ipv4Header,
  Ipv6Header,
  Icmpv4Header,
  Icmpv6Header,
  ArpPacket,
  parseEthernet,
  parseIpv4,
  parseIpv6,
  parseIcmpv4,
  parseIcmpv6,
  parseArp,
  EtherType,
  IpProtocol,
  DROP_REASON_NAMES,
  writeUdpHeader,
  type DropReason,
} from '../../ts/wire/index.js';
import { PairFixture, type OpenPair } from '../dev/pair-fixture.js';
import { ENGINE_IP4, ENGINE_IP6, ENGINE_MAC, RawPeer } from './packets.js';

export class RecordingTransport implements TransportHandler {
  datagrams: {
    family: number;
    l4: Uint8Array;
    frameAddr: number;
    src4: number;
    toGroup: boolean;
  }[] = [];
  errors: { kind: number; mtu: number; localPort: number; remotePort: number; protocol: number }[] =
    [];
  result: number = InputResult.Done;
  kept: number[] = [];

  input(d: RxDatagram): number {
    this.datagrams.push({
      family: d.family,
      l4: d.buf.slice(d.l4Off, d.l4Off + d.l4Len),
      frameAddr: d.frameAddr,
      src4: d.src4,
      toGroup: d.toGroup,
    });
    if (this.result === InputResult.Kept && d.frameAddr >= 0) this.kept.push(d.frameAddr);
    return this.result;
  }

  icmpError(e: IcmpErrorInfo): void {
    this.errors.push({
      kind: e.kind,
      mtu: e.mtu,
      localPort: e.localPort,
      remotePort: e.remotePort,
      protocol: e.protocol,
    });
  }
}

export interface Bench {
  iface: Interface;
  peer: RawPeer;
  clock: VirtualClock;
  pair: OpenPair;
  neighbours: SharedNeighbourTable;
  udp: RecordingTransport;
  /** Polls the interface until quiet; returns copies of what reached the peer. */
  step(): Uint8Array[];
  /** Advances virtual time, ticks, and steps. */
  advance(ms: number): Uint8Array[];
  drops(reason: DropReason): number;
}

export const BASE_CONFIG: InterfaceConfig = {
  mac: ENGINE_MAC,
  ipv4: [`${ENGINE_IP4}/24`],
  ipv6: [`${ENGINE_IP6}/64`],
  dad: false,
  gratuitousArp: 0,
};

export function openBench(
  fixture: PairFixture,
  config: Partial<InterfaceConfig> = {},
  opts: Partial<InterfaceOptions> = {},
): Bench {
  const clock = VirtualClock.create(1_000_000);
  const pair = fixture.open({ clock, framesPerPort: 512 });
  const neighbours = SharedNeighbourTable.create(64, config.neighbourTimers);
  const iface = new Interface(
    pair.a,
    { ...BASE_CONFIG, ...config },
    { neighbours, clock, ...opts },
  );
  const udp = new RecordingTransport();
  iface.registerTransport(17, udp);
  const peer = new RawPeer(pair.b);
  const step = (): Uint8Array[] => {
    for (let i = 0; i < 4; i++) iface.poll();
    return peer.receive();
  };
  return {
    iface,
    peer,
    clock,
    pair,
    neighbours,
    udp,
    step,
    advance(ms: number): Uint8Array[] {
      clock.advance(ms);
      iface.tick(clock.now());
      return step();
    },
    drops: (reason) => iface.drops[reason],
  };
}

/** Closes every bench interface, then settles and audits the pairs (frames all home and free). */
export function closeAndAudit(fixture: PairFixture, benches: Bench[]): void {
  for (const b of benches) {
    for (const addr of b.udp.kept) b.pair.a.release(addr);
    b.udp.kept = [];
    b.iface.close();
  }
  fixture.settleAndAudit();
}

/** Non-zero drop counters by name, for assertion messages. */
export function dropSummary(iface: Interface): string {
  return JSON.stringify(iface.dropCounts());
}

export { DROP_REASON_NAMES };

// ---- parsing what the peer received ---------------------------------------------------------

export interface Seen {
  raw: Uint8Array;
  eth: EthernetHeader;
  arp?: ArpPacket;
  ip4?: Ipv4Header;
  ip6?: Ipv6Header;
  icmp4?: Icmpv4Header;
  icmp6?: Icmpv6Header;
}

/** Parses a received frame with the wire layer; asserts it is well formed. */
export function parseSeen(raw: Uint8Array): Seen {
  const eth = new EthernetHeader();
  assert.equal(parseEthernet(raw, 0, raw.length, eth), 0, 'ethernet parses');
  const seen: Seen = { raw, eth };
  if (eth.etherType === EtherType.Arp) {
    seen.arp = new ArpPacket();
    assert.equal(parseArp(raw, eth.payloadOff, eth.payloadLen, seen.arp), 0, 'arp parses');
  } else if (eth.etherType === EtherType.Ipv4) {
    const ip = new Ipv4Header();
    assert.equal(parseIpv4(raw, eth.payloadOff, eth.payloadLen, ip), 0, 'ipv4 parses');
    seen.ip4 = ip;
    if (ip.protocol === IpProtocol.Icmp && ip.fragmentOffset === 0 && !ip.moreFragments) {
      seen.icmp4 = new Icmpv4Header();
      assert.equal(parseIcmpv4(raw, ip.payloadOff, ip.payloadLen, seen.icmp4), 0, 'icmp parses');
    }
  } else if (eth.etherType === EtherType.Ipv6) {
    const ip = new Ipv6Header();
    assert.equal(parseIpv6(raw, eth.payloadOff, eth.payloadLen, ip), 0, 'ipv6 parses');
    seen.ip6 = ip;
    if (ip.upperProtocol === IpProtocol.Icmpv6 && ip.fragmentHeaderOff < 0) {
      seen.icmp6 = new Icmpv6Header();
      assert.equal(parseIcmpv6(raw, ip.upperOff, ip.upperLen, ip, seen.icmp6), 0, 'icmpv6 parses');
    }
  }
  return seen;
}

export { PairFixture };

/** Sends a UDP datagram whose first payload byte is `tag`; returns finishIp's result. */
export function sendUdp4(iface: Interface, dst: number, len: number, tag = 0): number {
  const off = iface.beginIp4(dst, 8 + len);
  if (off < 0) return off;
  const buf = iface.tx.buf;
  writeUdpHeader(buf, off, 5000, 6000, 8 + len);
  for (let i = 0; i < len; i++) buf[off + 8 + i] = i === 0 ? tag : i & 0xff;
  return iface.finishIp(17, 8 + len);
}
