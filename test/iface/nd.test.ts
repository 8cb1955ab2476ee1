// IPv6 Neighbor Discovery (RFC 4861) and duplicate address detection (RFC 4862 5.4) through an
// Interface on a memory pair with a hand-driven peer, on virtual time.
import assert from 'node:assert/strict';
import {
  DropReason,
  EtherType,
  IpProtocol,
  Icmpv6Type,
  NaFlag,
  formatMac,
  isIpv6Unspecified,
  writeNeighborAdvertisement,
  writeNeighborSolicitation,
  writeSolicitedNodeAddress,
} from '../../ts/wire/index.js';
import { AddressState } from '../../ts/iface/address-states.js';
import { linkLocalFromMac } from '../../ts/iface/config.js';
import { NeighbourState } from '../../ts/iface/neighbour-table.js';
import { newKey, setKey6 } from '../../ts/iface/shared-table.js';
import { closeAndAudit, openBench, PairFixture, parseSeen, type Bench } from './bench.js';
import {
  ENGINE_IP6,
  ENGINE_MAC,
  eth,
  icmp6,
  ip6,
  ipv6,
  mac,
  PEER_IP6,
  PEER_MAC,
  udp6,
  pattern,
} from './packets.js';

const E6 = ip6(ENGINE_IP6);
const P6 = ip6(PEER_IP6);
const UNSPECIFIED = new Uint8Array(16);

function solicitedNode(addr: Uint8Array): Uint8Array {
  const g = new Uint8Array(16);
  writeSolicitedNodeAddress(g, 0, addr, 0);
  return g;
}

function groupMac(group: Uint8Array): string {
  return `33:33:${Array.from(group.subarray(12), (b) => b.toString(16).padStart(2, '0')).join(':')}`;
}

/** A Neighbor Solicitation for `target` from `src` (:: for DAD, without the option). */
function nsFrame(src: Uint8Array, target: Uint8Array): Uint8Array {
  const dad = isIpv6Unspecified(src, 0);
  const body = new Uint8Array(32);
  const len = writeNeighborSolicitation(body, 0, target, 0, dad ? null : mac(PEER_MAC), 0);
  const group = solicitedNode(target);
  const msg = icmp6(src, group, Icmpv6Type.NeighborSolicitation, 0, 0, body.subarray(8, len));
  return eth(
    groupMac(group),
    PEER_MAC,
    EtherType.Ipv6,
    ipv6(src, group, IpProtocol.Icmpv6, msg, 255),
  );
}

function naFrame(
  target: Uint8Array,
  dst: Uint8Array,
  flags: number,
  dstMac = ENGINE_MAC,
): Uint8Array {
  const body = new Uint8Array(32);
  const len = writeNeighborAdvertisement(body, 0, flags, target, 0, mac(PEER_MAC), 0);
  const msg = icmp6(P6, dst, Icmpv6Type.NeighborAdvertisement, 0, flags, body.subarray(8, len));
  return eth(dstMac, PEER_MAC, EtherType.Ipv6, ipv6(P6, dst, IpProtocol.Icmpv6, msg, 255));
}

function stateOf6(b: Bench, addr: Uint8Array): number {
  return b.neighbours.lookup(setKey6(newKey(), addr, 0), new Uint8Array(6), 0);
}

describe('iface: neighbor discovery and DAD', function () {
  const fixture = new PairFixture();
  let benches: Bench[] = [];
  const bench = (cfg = {}): Bench => {
    const b = openBench(fixture, cfg);
    benches.push(b);
    return b;
  };
  afterEach(function () {
    closeAndAudit(fixture, benches);
    benches = [];
  });

  it('answers a solicitation with a solicited, override advertisement and learns the solicitor', function () {
    const b = bench();
    b.peer.send(nsFrame(P6, E6));
    const out = b.step().map(parseSeen);
    assert.equal(out.length, 1);
    const na = out[0];
    assert.equal(na.icmp6?.type, Icmpv6Type.NeighborAdvertisement);
    assert.equal(na.icmp6!.rest >>> 0, (NaFlag.Solicited | NaFlag.Override) >>> 0);
    assert.deepEqual(na.raw.subarray(na.icmp6!.targetOff, na.icmp6!.targetOff + 16), E6);
    assert.equal(formatMac(na.raw, na.icmp6!.targetMacOff), ENGINE_MAC);
    assert.deepEqual(na.raw.subarray(na.ip6!.dstOff, na.ip6!.dstOff + 16), P6);
    assert.equal(formatMac(na.raw, na.eth.dstOff), PEER_MAC);
    assert.equal(na.ip6?.hopLimit, 255);
    // Learnt STALE (RFC 4861 7.2.3), then used for the advertisement: DELAY (7.3.3).
    assert.equal(stateOf6(b, P6), NeighbourState.Delay);
  });

  it('resolves by multicast solicitation and sends once advertised', function () {
    const b = bench();
    const off = b.iface.beginIp6(P6, 0, 8 + 10);
    assert.ok(off >= 0);
    b.iface.tx.buf.set(udp6(E6, P6, 1, 2, pattern(10)), off);
    assert.equal(b.iface.finishIp(17, 18), 0);
    const ns = b.step().map(parseSeen);
    assert.equal(ns.length, 1);
    assert.equal(ns[0].icmp6?.type, Icmpv6Type.NeighborSolicitation);
    assert.equal(formatMac(ns[0].raw, ns[0].eth.dstOff), groupMac(solicitedNode(P6)));
    assert.equal(formatMac(ns[0].raw, ns[0].icmp6!.sourceMacOff), ENGINE_MAC);
    b.peer.send(naFrame(P6, E6, NaFlag.Solicited | NaFlag.Override));
    const sent = b.step().map(parseSeen);
    assert.equal(sent.length, 1);
    assert.equal(sent[0].ip6?.upperProtocol, IpProtocol.Udp);
    assert.equal(stateOf6(b, P6), NeighbourState.Reachable);
  });

  it('ignores an unsolicited advertisement for a neighbour it does not know', function () {
    const b = bench();
    b.peer.send(naFrame(P6, ip6('ff02::1'), NaFlag.Override, '33:33:00:00:00:01'));
    b.step();
    assert.equal(stateOf6(b, P6), NeighbourState.Absent);
  });

  it('runs DAD for the link-local and global address, then answers for them', function () {
    const b = bench({ dad: true });
    assert.equal(b.iface.addresses.v6Count, 2);
    const probes = b.advance(0).map(parseSeen);
    assert.equal(probes.length, 2);
    for (const p of probes) {
      assert.equal(p.icmp6?.type, Icmpv6Type.NeighborSolicitation);
      assert.ok(isIpv6Unspecified(p.raw, p.ip6!.srcOff), 'from ::');
      assert.equal(p.icmp6?.sourceMacOff, -1, 'no source link-layer option');
    }
    assert.equal(b.iface.addresses.v6LinkLocalIndex, 0);
    assert.equal(
      linkLocalFromMac(mac(ENGINE_MAC)),
      'fe80::ff:fe00:1',
      'modified EUI-64 of 02:00:00:00:00:01',
    );
    // Tentative: a solicitation for it is ignored.
    b.peer.send(nsFrame(P6, E6));
    assert.equal(b.step().length, 0);
    assert.equal(b.drops(DropReason.Ipv6TentativeAddress), 1);
    b.advance(1000);
    assert.equal(b.iface.addressStates.state(1), AddressState.Preferred);
    b.peer.send(nsFrame(P6, E6));
    assert.equal(b.step().length, 1);
  });

  it('marks an address duplicated when another node advertises it during DAD', function () {
    const b = bench({ dad: true });
    b.advance(0);
    b.peer.send(naFrame(E6, ip6('ff02::1'), NaFlag.Override, '33:33:00:00:00:01'));
    b.step();
    b.advance(1000);
    assert.equal(b.iface.addressStates.state(1), AddressState.Duplicated);
    assert.equal(b.iface.addressStates.state(0), AddressState.Preferred);
    assert.equal(b.iface.stats.dadFailures, 1);
    b.peer.send(nsFrame(P6, E6));
    assert.equal(b.step().length, 0, 'a duplicated address is never answered for');
    const off = b.iface.beginIp6(P6, 0, 10);
    assert.ok(off >= 0);
    const src = b.iface.tx.buf.slice(b.iface.tx.srcOff, b.iface.tx.srcOff + 16);
    assert.deepEqual(src, ip6(linkLocalFromMac(mac(ENGINE_MAC))), 'nor used as a source');
    b.iface.abortIp();
  });

  it('marks an address duplicated when another node probes it at the same time', function () {
    const b = bench({ dad: true });
    b.advance(0);
    b.peer.send(nsFrame(UNSPECIFIED, E6));
    b.step();
    assert.equal(b.iface.addressStates.state(1), AddressState.Duplicated);
    assert.equal(b.drops(DropReason.DadDuplicate), 1);
  });

  it('runs DAD in one worker only when several share the address states', function () {
    const b = bench({ dad: true });
    const other = openBench(
      fixture,
      { dad: true },
      { addressStates: b.iface.addressStates, workerId: 1 },
    );
    benches.push(other);
    b.advance(0);
    other.clock.advanceTo(b.clock.now());
    other.iface.tick(other.clock.now());
    assert.equal(other.step().length, 0, 'the second worker sends no probes');
    assert.equal(b.iface.stats.dadProbesSent, 2);
  });
});
