// Two engines (Interface + TcpStack each) on a memory pair in virtual time, driven in rounds
// (test/support/tcp-rounds.ts): when nothing moved, the clock jumps to the next event, so
// retransmission timeouts cost no wall-clock time. After each test: reset everything, settle and
// audit frames.
import type { VirtualClock } from '../../ts/dev/memory/clock.js';
import type { Interface } from '../../ts/iface/interface.js';
import type { InterfaceConfig } from '../../ts/iface/config.js';
import assert from 'node:assert/strict';
import { parseIpv4Address } from '../../ts/wire/address.js';
import type { TcpConn, TcpListener } from '../../ts/socket/tcp/tcp-conn.js';
import { TcpStack, type TcpStackOptions } from '../../ts/socket/tcp/tcp-stack.js';
import { PairFixture, type OpenPair } from '../dev/pair-fixture.js';
import type { MemoryPairOptions } from '../../ts/dev/memory/memory-pair.js';
import { openInterfacePair } from '../support/interface-pair.js';
import { tcpRounds, type TcpRounds } from '../support/tcp-rounds.js';

export const A_MAC = '02:00:00:00:00:1a';
export const B_MAC = '02:00:00:00:00:1b';
export const A4 = '198.18.15.1';
export const B4 = '198.18.15.2';
/** An address routed to B's MAC that B's interface ignores (a spoofed SYN source). */
export const GHOST4 = '198.18.15.99';
export const A6 = '2001:2:0:15::1';
export const B6 = '2001:2:0:15::2';

export interface Side {
  iface: Interface;
  tcp: TcpStack;
}

export interface TcpBed extends TcpRounds {
  pair: OpenPair;
  clock: VirtualClock;
  a: Side;
  b: Side;
}

export class TcpFixture {
  private readonly pairs = new PairFixture();
  private beds: TcpBed[] = [];

  open(
    pairOptions: MemoryPairOptions = {},
    stackOptions: { a?: TcpStackOptions; b?: TcpStackOptions } = {},
    ifaceConfig: Partial<InterfaceConfig> = {},
  ): TcpBed {
    const ifaces = openInterfacePair(
      this.pairs,
      { aMac: A_MAC, bMac: B_MAC, a4: A4, b4: B4, a6: A6, b6: B6, alsoViaB: [GHOST4] },
      { framesPerPort: 1024, ...pairOptions },
      ifaceConfig,
    );
    const a = { iface: ifaces.a, tcp: new TcpStack(ifaces.a, stackOptions.a) };
    const b = { iface: ifaces.b, tcp: new TcpStack(ifaces.b, stackOptions.b) };
    const bed: TcpBed = {
      pair: ifaces.pair,
      clock: ifaces.clock,
      a,
      b,
      ...tcpRounds(ifaces, a.tcp, b.tcp),
    };
    this.beds.push(bed);
    return bed;
  }

  /** Resets every connection, closes the interfaces, then settles and audits the pairs. */
  async closeAndAudit(): Promise<void> {
    for (const bed of this.beds) {
      bed.a.tcp.close();
      bed.b.tcp.close();
      for (let i = 0; i < 4; i++) await bed.round();
      bed.a.iface.close();
      bed.b.iface.close();
    }
    this.beds = [];
    this.pairs.settleAndAudit();
  }
}

/** An IPv4 listener on `port` of `tcp`; fails the test when listen() returns an error. */
export function listen4(tcp: TcpStack, port: number): TcpListener {
  const l = tcp.listen({ port, is4: true });
  assert.ok(typeof l === 'object', `listen: ${String(l)}`);
  return l;
}

/** An IPv4 connect from `tcp` to `host`:`port`; fails the test when connect() returns an error. */
export function dial4(tcp: TcpStack, host: string, port: number): TcpConn {
  const c = tcp.connect({
    is4: true,
    addr4: parseIpv4Address(host),
    addr6: new Uint8Array(16),
    port,
  });
  assert.ok(typeof c === 'object', `connect: ${String(c)}`);
  return c;
}
