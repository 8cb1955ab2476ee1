// Two engines (Interface + UdpStack + TcpStack + a Sys each) on a memory pair in virtual time,
// driven in rounds as test/tcp-stack/harness.ts does it (test/support/tcp-rounds.ts): when
// nothing moved the clock jumps to the next event. After each test: close every
// descriptor and connection, settle and audit the frames.
import type { VirtualClock } from '../../ts/dev/memory/clock.js';
import type { Interface } from '../../ts/iface/interface.js';
import { TcpStack, type TcpStackOptions } from '../../ts/socket/tcp/tcp-stack.js';
import { UdpStack } from '../../ts/socket/udp/udp-stack.js';
import { Sys, type SysOptions } from '../../ts/api/sys/sys.js';
import { PairFixture, type OpenPair } from '../dev/pair-fixture.js';
import { openInterfacePair } from '../support/interface-pair.js';
import { tcpRounds, type TcpRounds } from '../support/tcp-rounds.js';

export const A_MAC = '02:00:00:00:00:2a';
export const B_MAC = '02:00:00:00:00:2b';
export const A4 = '198.18.17.1';
export const B4 = '198.18.17.2';
export const A6 = '2001:2:0:17::1';
export const B6 = '2001:2:0:17::2';

export interface Side {
  iface: Interface;
  tcp: TcpStack;
  udp: UdpStack;
  sys: Sys;
}

export interface SysBed extends TcpRounds {
  pair: OpenPair;
  clock: VirtualClock;
  a: Side;
  b: Side;
  /** A few rounds with nothing expected (lets in-flight segments land). */
  settle(rounds?: number): Promise<void>;
}

export class SysFixture {
  private readonly pairs = new PairFixture();
  private beds: SysBed[] = [];

  open(sysOptions: SysOptions = {}, tcpOptions: TcpStackOptions = {}): SysBed {
    const ifaces = openInterfacePair(
      this.pairs,
      { aMac: A_MAC, bMac: B_MAC, a4: A4, b4: B4, a6: A6, b6: B6 },
      { framesPerPort: 1024 },
    );
    const side = (iface: Interface): Side => {
      const tcp = new TcpStack(iface, tcpOptions);
      const udp = new UdpStack(iface);
      return { iface, tcp, udp, sys: new Sys({ tcp, udp }, sysOptions) };
    };
    const a = side(ifaces.a);
    const b = side(ifaces.b);
    const rounds = tcpRounds(ifaces, a.tcp, b.tcp);
    const bed: SysBed = {
      pair: ifaces.pair,
      clock: ifaces.clock,
      a,
      b,
      ...rounds,
      async settle(n = 6) {
        for (let i = 0; i < n; i++) await rounds.round();
      },
    };
    this.beds.push(bed);
    return bed;
  }

  async closeAndAudit(): Promise<void> {
    for (const bed of this.beds) {
      bed.a.sys.closeAll();
      bed.b.sys.closeAll();
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

export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export function text(buf: Uint8Array, n: number): string {
  return new TextDecoder().decode(buf.subarray(0, n));
}
