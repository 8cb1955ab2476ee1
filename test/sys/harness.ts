// Two engines (Interface + UdpStack + TcpStack + a Sys each) on a memory pair in virtual time,
// as test/tcp-stack/harness.ts does it: a round polls both interfaces and runs both TCP timer
// heaps; when nothing moved the clock jumps to the next event. After each test: close every
// descriptor and connection, settle and audit the frames.
import { VirtualClock } from '../../ts/dev/memory/clock.js';
import { Interface } from '../../ts/iface/interface.js';
import type { InterfaceConfig } from '../../ts/iface/config.js';
import { SharedNeighbourTable } from '../../ts/iface/neighbour-table.js';
import { TcpStack, type TcpStackOptions } from '../../ts/socket/tcp/tcp-stack.js';
import { UdpStack } from '../../ts/socket/udp/udp-stack.js';
import { Sys, type SysOptions } from '../../ts/api/sys/sys.js';
import { PairFixture, type OpenPair } from '../dev/pair-fixture.js';

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

export interface SysBed {
  pair: OpenPair;
  clock: VirtualClock;
  a: Side;
  b: Side;
  round(): Promise<number>;
  /** Rounds until `cond()` or `max` rounds; jumps the clock when idle. */
  until(cond: () => boolean, max?: number): Promise<boolean>;
  /** A few rounds with nothing expected (lets in-flight segments land). */
  settle(rounds?: number): Promise<void>;
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

export class SysFixture {
  private readonly pairs = new PairFixture();
  private beds: SysBed[] = [];

  open(sysOptions: SysOptions = {}, tcpOptions: TcpStackOptions = {}): SysBed {
    const clock = VirtualClock.create(1_000_000);
    const pair = this.pairs.open({ clock, framesPerPort: 1024 });
    const side = (port: OpenPair['a'], cfg: InterfaceConfig): Side => {
      const iface = new Interface(port, cfg, {
        neighbours: SharedNeighbourTable.create(64),
        clock,
      });
      const tcp = new TcpStack(iface, tcpOptions);
      const udp = new UdpStack(iface);
      return { iface, tcp, udp, sys: new Sys({ tcp, udp }, sysOptions) };
    };
    const a = side(pair.a, config(A_MAC, A4, A6, B_MAC, [B4, B6]));
    const b = side(pair.b, config(B_MAC, B4, B6, A_MAC, [A4, A6]));
    let lastTick = clock.now();
    const round = async (): Promise<number> => {
      const n = a.iface.poll() + b.iface.poll();
      a.tcp.runTimers();
      b.tcp.runTimers();
      if (clock.now() - lastTick >= 100) {
        lastTick = clock.now();
        a.iface.tick();
        b.iface.tick();
      }
      await new Promise((resolve) => setImmediate(resolve));
      return n;
    };
    const bed: SysBed = {
      pair,
      clock,
      a,
      b,
      round,
      async until(cond, max = 2000) {
        for (let i = 0; i < max; i++) {
          if (cond()) return true;
          const n = await round();
          if (n === 0 && !cond()) {
            const next = Math.min(
              a.tcp.nextDeadline(),
              b.tcp.nextDeadline(),
              pair.a.nextEventTime(),
              pair.b.nextEventTime(),
              clock.now() + 50,
            );
            clock.advanceTo(Math.max(next, clock.now() + 0.1));
          }
        }
        return cond();
      },
      async settle(rounds = 6) {
        for (let i = 0; i < rounds; i++) await round();
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
