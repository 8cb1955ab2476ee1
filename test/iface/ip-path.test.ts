// Cached paths (ts/iface/ip-path.ts) through an Interface on a memory pair: a datagram on a path
// goes where the full lookups would send it, and the path is looked up again, before the next
// datagram, after whatever it depends on changes: the interface's routes and addresses
// (invalidatePaths), the next hop's MAC or state in the neighbour table (from any worker's
// handle on it), the path MTU learnt from ICMP. A neighbour that is not REACHABLE is never
// bypassed: sends to it go through the neighbour path, which starts NUD (RFC 4861 7.3.3).
import assert from 'node:assert/strict';
import {
  EtherType,
  IpProtocol,
  Icmpv4Type,
  formatMac,
  writeUdpHeader,
} from '../../ts/wire/index.js';
import { IpPath } from '../../ts/iface/ip-path.js';
import { SharedNeighbourTable } from '../../ts/iface/neighbour-table.js';
import { newKey, setKey4, setKey6 } from '../../ts/iface/shared-table.js';
import type { Interface } from '../../ts/iface/interface.js';
import { closeAndAudit, openBench, PairFixture, parseSeen, type Bench } from './bench.js';
import {
  ENGINE_IP4,
  ENGINE_IP6,
  ENGINE_MAC,
  eth,
  fakeTransportHeader,
  icmp4,
  ip4,
  ip6,
  ipv4,
  mac,
  PEER_IP4,
  PEER_IP6,
  PEER_MAC,
} from './packets.js';

const ROUTER_IP4 = '198.18.7.254';
const FAR4 = '198.19.200.5';
const OTHER_MAC = '02:00:00:00:00:99';

/** A UDP datagram of `len` payload bytes on `path`; returns finishIp's result. */
function sendOnPath(iface: Interface, path: IpPath, len: number, dontFragment = true): number {
  const off = iface.beginIpOnPath(path, 8 + len);
  if (off < 0) return off;
  writeUdpHeader(iface.tx.buf, off, 5000, 6000, 8 + len);
  return iface.finishIp(17, 8 + len, dontFragment);
}

function path4(to: string): IpPath {
  const p = new IpPath();
  p.bind4(ip4(ENGINE_IP4), ip4(to));
  return p;
}

describe('iface: cached paths', function () {
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

  it('sends to the next hop with one lookup, and looks again after invalidatePaths', function () {
    const b = bench({ staticNeighbours: [{ ip: PEER_IP4, mac: PEER_MAC }] });
    const p = path4(PEER_IP4);
    for (let i = 0; i < 3; i++) assert.equal(sendOnPath(b.iface, p, 100), 0);
    const out = b.step().map(parseSeen);
    assert.equal(out.length, 3);
    for (const s of out) {
      assert.equal(formatMac(s.raw, s.eth.dstOff), PEER_MAC);
      assert.equal(formatMac(s.raw, s.eth.srcOff), ENGINE_MAC);
      assert.equal(s.ip4?.src, ip4(ENGINE_IP4));
      assert.equal(s.ip4?.dst, ip4(PEER_IP4));
      assert.equal(s.ip4?.dontFragment, true);
    }
    assert.equal(b.iface.stats.pathRefills, 1, 'filled once, then reused');
    assert.equal(p.mtu, 1500);
    // A route or address change (the interface bumps its own generation): looked up again.
    b.iface.invalidatePaths();
    assert.equal(sendOnPath(b.iface, p, 100), 0);
    assert.equal(b.step().length, 1);
    assert.equal(b.iface.stats.pathRefills, 2);
  });

  it("follows a change of the next hop's MAC, made through another worker's table handle", function () {
    const b = bench({ staticNeighbours: [{ ip: PEER_IP4, mac: PEER_MAC }] });
    const p = path4(PEER_IP4);
    assert.equal(sendOnPath(b.iface, p, 100), 0);
    assert.equal(formatMac(b.step()[0], 0), PEER_MAC);
    // Another worker opens the same shared memory (what workerData carries) and re-points it.
    const other = new SharedNeighbourTable(b.neighbours.buffer);
    const before = b.neighbours.generation();
    other.setPermanent(setKey4(newKey(), ip4(PEER_IP4)), mac(OTHER_MAC), 0);
    assert.notEqual(b.neighbours.generation(), before);
    assert.equal(sendOnPath(b.iface, p, 100), 0);
    assert.equal(formatMac(b.step()[0], 0), OTHER_MAC);
    assert.equal(b.iface.stats.pathRefills, 2);
  });

  it('follows an ARP-learnt MAC that changes, and leaves a STALE neighbour to NUD', function () {
    const b = bench();
    const key = setKey4(newKey(), ip4(PEER_IP4));
    const now = b.clock.now();
    // A solicited reply made the entry REACHABLE with PEER_MAC.
    b.neighbours.confirm(key, mac(PEER_MAC), 0, now, true, true, false);
    const p = path4(PEER_IP4);
    assert.equal(sendOnPath(b.iface, p, 100), 0);
    assert.equal(formatMac(b.step()[0], 0), PEER_MAC);
    assert.equal(p.hasLinkHeader, true);
    // An overriding, solicited advertisement with another MAC (RFC 4861 7.2.5).
    b.neighbours.confirm(key, mac(OTHER_MAC), 0, now, true, false, true);
    assert.equal(sendOnPath(b.iface, p, 100), 0);
    assert.equal(formatMac(b.step()[0], 0), OTHER_MAC);
    // REACHABLE_TIME passes without confirmation: STALE. The next send must not bypass the
    // table: it goes out, and moves the entry to DELAY (RFC 4861 7.3.3).
    b.advance(b.neighbours.timers.reachableMs + 100);
    assert.equal(b.neighbours.entries()[0].state, 'stale');
    assert.equal(sendOnPath(b.iface, p, 100), 0);
    assert.equal(p.hasLinkHeader, false);
    assert.equal(formatMac(b.step()[0], 0), OTHER_MAC);
    assert.equal(b.neighbours.entries()[0].state, 'delay');
  });

  it('queues behind resolution when the next hop is unknown, and sends once it resolves', function () {
    const b = bench();
    const p = path4(PEER_IP4);
    assert.equal(sendOnPath(b.iface, p, 100), 0);
    const out = b.step().map(parseSeen);
    assert.equal(out.length, 1, 'an ARP request, the datagram waits');
    assert.equal(out[0].eth.etherType, EtherType.Arp);
    assert.equal(b.iface.stats.pendingQueued, 1);
    // The reply: the pending datagram goes; the path caches the MAC for the next one.
    b.neighbours.confirm(
      setKey4(newKey(), ip4(PEER_IP4)),
      mac(PEER_MAC),
      0,
      b.clock.now(),
      true,
      false,
      false,
    );
    b.iface.tick(b.clock.now());
    assert.equal(b.step().length, 1);
    assert.equal(sendOnPath(b.iface, p, 100), 0);
    assert.equal(formatMac(b.step()[0], 0), PEER_MAC);
    assert.equal(p.hasLinkHeader, true);
  });

  it('takes a path MTU learnt from ICMP fragmentation needed on the next datagram', function () {
    const b = bench({
      ipv4Gateway: ROUTER_IP4,
      staticNeighbours: [{ ip: ROUTER_IP4, mac: PEER_MAC }],
    });
    const p = path4(FAR4);
    assert.equal(sendOnPath(b.iface, p, 1400), 0);
    assert.equal(b.step().length, 1);
    assert.equal(p.mtu, 1500);
    const quoted = ipv4(ENGINE_IP4, FAR4, IpProtocol.Tcp, fakeTransportHeader(40000, 80), {
      df: true,
    });
    b.peer.send(
      eth(
        ENGINE_MAC,
        PEER_MAC,
        EtherType.Ipv4,
        ipv4(
          ROUTER_IP4,
          ENGINE_IP4,
          IpProtocol.Icmp,
          icmp4(Icmpv4Type.DestinationUnreachable, 4, 1200, quoted),
        ),
      ),
    );
    b.step();
    assert.equal(b.iface.stats.pmtuUpdates, 1);
    // DF: refused (EMSGSIZE) as the full path would; without DF: two fragments.
    assert.equal(sendOnPath(b.iface, p, 1400), -90);
    assert.equal(p.mtu, 1200);
    assert.equal(sendOnPath(b.iface, p, 1400, false), 0);
    assert.equal(b.step().length, 2);
    assert.equal(sendOnPath(b.iface, p, 1000), 0);
    assert.equal(b.step().length, 1);
    // RFC 1191 6.3: the learnt value expires and the route MTU applies again.
    b.advance(600_000);
    assert.equal(sendOnPath(b.iface, p, 1400), 0);
    assert.equal(p.mtu, 1500);
    assert.equal(b.step().length, 1);
  });

  it('sends IPv6 on a path, and falls back to the full path without a route', function () {
    const b = bench({ staticNeighbours: [{ ip: PEER_IP6, mac: PEER_MAC }] });
    const p = new IpPath();
    p.bind6(ip6(ENGINE_IP6), 0, ip6(PEER_IP6), 0);
    assert.equal(sendOnPath(b.iface, p, 100), 0);
    const s = parseSeen(b.step()[0]);
    assert.equal(formatMac(s.raw, s.eth.dstOff), PEER_MAC);
    assert.deepEqual(s.raw.subarray(s.ip6!.dstOff, s.ip6!.dstOff + 16), ip6(PEER_IP6));
    assert.equal(p.hasLinkHeader, true);
    assert.equal(b.neighbours.lookup(setKey6(newKey(), ip6(PEER_IP6), 0), new Uint8Array(6), 0), 7);
    const lost = path4('203.0.113.9'); // no gateway: no route
    assert.equal(sendOnPath(b.iface, lost, 100), -101); // ENETUNREACH, as beginIp4 says
    assert.equal(lost.usable, false);
  });
});
