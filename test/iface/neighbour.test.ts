// The neighbour cache state machine (RFC 4861 7.3.2, ARP the same way) on virtual time, through a
// real Interface on a memory pair and a hand-driven peer.
import assert from 'node:assert/strict';
import { ArpOperation, DropReason, EtherType, formatMac } from '../../ts/wire/index.js';
import { IfaceErrno } from '../../ts/iface/errno.js';
import { NeighbourState, SharedNeighbourTable } from '../../ts/iface/neighbour-table.js';
import { newKey, setKey4 } from '../../ts/iface/shared-table.js';
import { closeAndAudit, openBench, PairFixture, parseSeen, sendUdp4, type Bench } from './bench.js';
import {
  arp,
  arpRequestFrame,
  ENGINE_IP4,
  ENGINE_MAC,
  eth,
  ip4,
  PEER_IP4,
  PEER_MAC,
} from './packets.js';

function stateOf(b: Bench, addr: string): number {
  return b.neighbours.lookup(setKey4(newKey(), ip4(addr)), new Uint8Array(6), 0);
}

function arpReplyFrame(): Uint8Array {
  return eth(
    ENGINE_MAC,
    PEER_MAC,
    EtherType.Arp,
    arp(ArpOperation.Reply, PEER_MAC, PEER_IP4, ENGINE_MAC, ENGINE_IP4),
  );
}

describe('iface: neighbour cache and ARP', function () {
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

  it('answers an ARP request in place and learns the requester as STALE', function () {
    const b = bench();
    b.peer.send(arpRequestFrame(PEER_MAC, PEER_IP4, ENGINE_IP4));
    const out = b.step().map(parseSeen);
    assert.equal(out.length, 1);
    const r = out[0];
    assert.equal(r.arp?.operation, ArpOperation.Reply);
    assert.equal(formatMac(r.raw, r.arp!.senderMacOff), ENGINE_MAC);
    assert.equal(r.arp?.senderIp, ip4(ENGINE_IP4));
    assert.equal(r.arp?.targetIp, ip4(PEER_IP4));
    assert.equal(formatMac(r.raw, r.eth.dstOff), PEER_MAC);
    assert.equal(stateOf(b, PEER_IP4), NeighbourState.Stale);
    assert.equal(b.iface.stats.arpRepliesSent, 1);
  });

  it('ignores (and counts) ARP for addresses that are not ours, learning nothing new', function () {
    const b = bench();
    b.peer.send(arpRequestFrame(PEER_MAC, PEER_IP4, '198.18.7.99'));
    assert.equal(b.step().length, 0);
    assert.equal(b.drops(DropReason.ArpNotForUs), 1);
    assert.equal(stateOf(b, PEER_IP4), NeighbourState.Absent);
  });

  it('resolves before sending: one request, the packet waits, then goes to the learnt MAC', function () {
    const b = bench();
    assert.equal(sendUdp4(b.iface, ip4(PEER_IP4), 100, 7), 0);
    const first = b.step().map(parseSeen);
    assert.equal(first.length, 1);
    assert.equal(first[0].arp?.operation, ArpOperation.Request);
    assert.equal(first[0].arp?.targetIp, ip4(PEER_IP4));
    assert.equal(formatMac(first[0].raw, first[0].eth.dstOff), 'ff:ff:ff:ff:ff:ff');
    assert.equal(stateOf(b, PEER_IP4), NeighbourState.Incomplete);
    // A second packet does not send a second request.
    assert.equal(sendUdp4(b.iface, ip4(PEER_IP4), 100, 8), 0);
    assert.equal(b.step().length, 0);
    b.peer.send(arpReplyFrame());
    const sent = b.step().map(parseSeen);
    assert.equal(sent.length, 2);
    for (const s of sent) {
      assert.equal(formatMac(s.raw, s.eth.dstOff), PEER_MAC);
      assert.equal(s.ip4?.protocol, 17);
    }
    assert.deepEqual(
      sent.map((s) => s.raw[s.ip4!.payloadOff + 8]),
      [7, 8],
    );
    assert.equal(stateOf(b, PEER_IP4), NeighbourState.Reachable);
  });

  it('retries every second, fails after 3 requests, drops the waiting packet, then forgets', function () {
    const b = bench();
    assert.equal(sendUdp4(b.iface, ip4(PEER_IP4), 10), 0);
    assert.equal(b.step().length, 1);
    assert.equal(b.advance(999).length, 0, 'no retry before RETRANS_TIMER');
    assert.equal(b.advance(1).length, 1, 'second request');
    assert.equal(b.advance(1000).length, 1, 'third request');
    assert.equal(b.drops(DropReason.NeighbourUnresolved), 0);
    assert.equal(b.advance(1000).length, 0, 'no fourth request');
    assert.equal(stateOf(b, PEER_IP4), NeighbourState.Failed);
    assert.equal(b.drops(DropReason.NeighbourUnresolved), 1);
    assert.equal(sendUdp4(b.iface, ip4(PEER_IP4), 10), IfaceErrno.EHOSTUNREACH);
    b.advance(3000);
    assert.equal(stateOf(b, PEER_IP4), NeighbourState.Absent, 'failed entry expires');
    assert.equal(sendUdp4(b.iface, ip4(PEER_IP4), 10), 0);
    assert.equal(b.step().length, 1, 'a new resolution starts');
  });

  it('REACHABLE goes STALE; using it probes by unicast after DELAY and a reply confirms it', function () {
    const b = bench();
    sendUdp4(b.iface, ip4(PEER_IP4), 10);
    b.step();
    b.peer.send(arpReplyFrame());
    b.step();
    assert.equal(stateOf(b, PEER_IP4), NeighbourState.Reachable);
    b.advance(30_000);
    assert.equal(stateOf(b, PEER_IP4), NeighbourState.Stale);
    assert.equal(sendUdp4(b.iface, ip4(PEER_IP4), 10), 0);
    assert.equal(b.step().length, 1, 'a STALE entry still carries packets');
    assert.equal(stateOf(b, PEER_IP4), NeighbourState.Delay);
    assert.equal(b.advance(4999).length, 0);
    const probe = b.advance(1).map(parseSeen);
    assert.equal(probe.length, 1);
    assert.equal(probe[0].arp?.operation, ArpOperation.Request);
    assert.equal(formatMac(probe[0].raw, probe[0].eth.dstOff), PEER_MAC, 'unicast probe');
    assert.equal(stateOf(b, PEER_IP4), NeighbourState.Probe);
    b.peer.send(arpReplyFrame());
    b.step();
    assert.equal(stateOf(b, PEER_IP4), NeighbourState.Reachable);
  });

  it('an unanswered PROBE fails after 3 unicast requests; an old STALE entry is collected', function () {
    const b = bench();
    b.peer.send(arpRequestFrame(PEER_MAC, PEER_IP4, ENGINE_IP4));
    b.step();
    assert.equal(stateOf(b, PEER_IP4), NeighbourState.Stale);
    sendUdp4(b.iface, ip4(PEER_IP4), 10);
    b.step();
    assert.equal(b.advance(5000).length, 1);
    assert.equal(b.advance(1000).length, 1);
    assert.equal(b.advance(1000).length, 1);
    b.advance(1000);
    assert.equal(stateOf(b, PEER_IP4), NeighbourState.Failed);
    // A fresh STALE entry nobody uses is removed after gc_stale_time (60 s).
    b.advance(3000);
    b.peer.send(arpRequestFrame(PEER_MAC, PEER_IP4, ENGINE_IP4));
    b.step();
    assert.equal(stateOf(b, PEER_IP4), NeighbourState.Stale);
    b.advance(59_000);
    assert.equal(stateOf(b, PEER_IP4), NeighbourState.Stale);
    b.advance(1000);
    assert.equal(stateOf(b, PEER_IP4), NeighbourState.Absent);
  });

  it('bounds the queue of packets waiting for resolution, dropping the oldest and counting', function () {
    const b = bench({ pendingPackets: 4 });
    for (let tag = 0; tag < 6; tag++) assert.equal(sendUdp4(b.iface, ip4(PEER_IP4), 20, tag), 0);
    assert.equal(b.step().length, 1, 'one ARP request for six packets');
    assert.equal(b.drops(DropReason.NeighbourQueueOverflow), 2);
    b.peer.send(arpReplyFrame());
    const sent = b.step().map(parseSeen);
    assert.deepEqual(
      sent.map((s) => s.raw[s.ip4!.payloadOff + 8]),
      [2, 3, 4, 5],
    );
  });

  it('resolves once for two workers sharing the table; the other worker sends when it ticks', function () {
    const a = bench();
    const w1 = openBench(fixture, {}, { neighbours: a.neighbours, clock: a.clock, workerId: 1 });
    benches.push(w1);
    assert.equal(sendUdp4(a.iface, ip4(PEER_IP4), 10, 1), 0);
    assert.equal(a.step().length, 1, 'worker 0 asks');
    assert.equal(sendUdp4(w1.iface, ip4(PEER_IP4), 10, 2), 0);
    assert.equal(w1.step().length, 0, 'worker 1 waits for the same resolution');
    a.peer.send(arpReplyFrame());
    const fromA = a.step().map(parseSeen);
    assert.equal(fromA.length, 1);
    w1.iface.tick(a.clock.now());
    const fromW1 = w1.step().map(parseSeen);
    assert.equal(fromW1.length, 1);
    assert.equal(formatMac(fromW1[0].raw, fromW1[0].eth.dstOff), PEER_MAC);
    assert.equal(fromW1[0].raw[fromW1[0].ip4!.payloadOff + 8], 2);
    assert.equal(a.iface.stats.arpRequestsSent + w1.iface.stats.arpRequestsSent, 1);
  });

  it('announces its addresses with gratuitous ARP at start (RFC 5227: two, 2 s apart)', function () {
    const b = bench({ gratuitousArp: 2 });
    const first = b.advance(0).map(parseSeen);
    assert.equal(first.length, 1);
    assert.equal(first[0].arp?.senderIp, ip4(ENGINE_IP4));
    assert.equal(first[0].arp?.targetIp, ip4(ENGINE_IP4));
    assert.equal(formatMac(first[0].raw, first[0].eth.dstOff), 'ff:ff:ff:ff:ff:ff');
    assert.equal(b.advance(1999).length, 0);
    assert.equal(b.advance(1).length, 1);
    assert.equal(b.advance(5000).length, 0);
  });
});

describe('iface: shared neighbour table (one thread, two workers)', function () {
  it('lets one worker claim a resolution; another takes over a stalled claim', function () {
    const table = SharedNeighbourTable.create(16);
    const other = new SharedNeighbourTable(table.buffer);
    const key = setKey4(newKey(), ip4(PEER_IP4));
    assert.equal(table.startResolution(key, 0, 0), 1);
    assert.equal(other.startResolution(key, 0, 1), 0);
    const asked: number[] = [];
    const solicitor = (w: number) => ({ solicit: () => void asked.push(w) });
    // At the retransmission time the claimant acts; the other worker waits another period.
    other.tick(1000, 1, solicitor(1));
    assert.deepEqual(asked, []);
    other.tick(2000, 1, solicitor(1));
    assert.deepEqual(asked, [1], 'worker 1 took over the stalled claim');
    table.tick(2000, 0, solicitor(0));
    assert.deepEqual(asked, [1], 'worker 0 no longer holds it');
  });

  it('keeps a permanent entry and never probes it', function () {
    const table = SharedNeighbourTable.create(16);
    const key = setKey4(newKey(), ip4(PEER_IP4));
    assert.ok(table.setPermanent(key, new Uint8Array([2, 0, 0, 0, 0, 9]), 0));
    let asked = 0;
    table.tick(1e9, 0, { solicit: () => void asked++ });
    const mac = new Uint8Array(6);
    assert.equal(table.lookup(key, mac, 0), NeighbourState.Permanent);
    assert.equal(mac[5], 9);
    assert.equal(asked, 0);
  });

  it('reports a full table instead of looping', function () {
    const table = SharedNeighbourTable.create(8);
    const key = newKey();
    for (let i = 0; i < 8; i++) assert.equal(table.startResolution(setKey4(key, i + 1), 0, 0), 1);
    assert.equal(table.startResolution(setKey4(key, 100), 0, 0), -1);
  });
});
