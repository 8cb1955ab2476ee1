// Two Interfaces on the two ports of a memory pair that share one virtual clock, each knowing the
// other's addresses as static neighbours and doing no DAD or gratuitous ARP, so that a test's
// first segment goes out at once. The base of the TCP, UDP and sys harnesses.
import { VirtualClock } from '../../ts/dev/memory/clock.js';
import { Interface } from '../../ts/iface/interface.js';
import type { InterfaceConfig } from '../../ts/iface/config.js';
import { SharedNeighbourTable } from '../../ts/iface/neighbour-table.js';
import type { MemoryPairOptions } from '../../ts/dev/memory/memory-pair.js';
import type { OpenPair, PairFixture } from '../dev/pair-fixture.js';

/** Where each side lives; `alsoViaB` are further addresses A sends to B's MAC. */
export interface PairAddresses {
  aMac: string;
  bMac: string;
  a4: string;
  b4: string;
  a6: string;
  b6: string;
  alsoViaB?: string[];
}

export interface InterfacePair {
  pair: OpenPair;
  clock: VirtualClock;
  a: Interface;
  b: Interface;
}

function config(mac: string, v4: string, v6: string, peerMac: string, peers: string[]) {
  const c: InterfaceConfig = {
    mac,
    ipv4: [`${v4}/24`],
    ipv6: [`${v6}/64`],
    dad: false,
    gratuitousArp: 0,
    staticNeighbours: peers.map((ip) => ({ ip, mac: peerMac })),
  };
  return c;
}

/** Opens a pair from `pairs` (which audits it) on a new virtual clock, an Interface on each port. */
export function openInterfacePair(
  pairs: PairFixture,
  at: PairAddresses,
  pairOptions: MemoryPairOptions,
  ifaceConfig: Partial<InterfaceConfig> = {},
): InterfacePair {
  const clock = VirtualClock.create(1_000_000);
  const pair = pairs.open({ clock, ...pairOptions });
  const iface = (port: OpenPair['a'], cfg: InterfaceConfig): Interface =>
    new Interface(
      port,
      { ...cfg, ...ifaceConfig },
      { neighbours: SharedNeighbourTable.create(64), clock },
    );
  const aPeers = [at.b4, at.b6, ...(at.alsoViaB ?? [])];
  return {
    pair,
    clock,
    a: iface(pair.a, config(at.aMac, at.a4, at.a6, at.bMac, aPeers)),
    b: iface(pair.b, config(at.bMac, at.b4, at.b6, at.aMac, [at.a4, at.a6])),
  };
}
