import assert from 'node:assert/strict';
import { netstatCounters } from '../../ts/runtime/control-counters.js';
import type { StackWorkerStats } from '../../ts/runtime/stack-config.js';
import { createDropCounters, dropCountsByName, DropReason } from '../../ts/wire/drop-reason.js';

/** A worker's stats with only these drops counted, named as a worker reports them. */
function statsWithDrops(counts: [DropReason, number][]): StackWorkerStats {
  const drops = createDropCounters();
  for (const [reason, n] of counts) drops[reason] = n;
  return {
    workerId: 0,
    iface: {},
    drops: dropCountsByName(drops),
    udp: {},
    tcp: {},
    tcpExt: {},
    loop: { passes: 0, parks: 0, naps: 0, cpuSeconds: 0 },
  };
}

describe('netstat counters', function () {
  it("sums drop reasons into netstat's error counters by the names workers report", function () {
    const c = netstatCounters(
      statsWithDrops([
        [DropReason.Ipv4BadChecksum, 2],
        [DropReason.Ipv6Truncated, 1],
        [DropReason.Icmpv4BadChecksum, 4],
        [DropReason.NdBadHopLimit, 8],
        [DropReason.TcpBadChecksum, 16],
        [DropReason.UdpBadChecksum, 32],
      ]),
    );
    assert.equal(c.Ip.InHdrErrors, 3);
    assert.equal(c.Icmp.InErrors, 12);
    assert.equal(c.Icmp.InCsumErrors, 4);
    assert.equal(c.Tcp.InCsumErrors, 16);
    assert.equal(c.Udp.InCsumErrors, 32);
    assert.equal(c.Device.DropIpv4BadChecksum, 2);
    assert.equal(c.Device.DropNdBadHopLimit, 8);
  });
});
