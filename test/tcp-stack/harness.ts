// Two engines (Interface + TcpStack each) on a memory pair in virtual time. A round polls both
// interfaces, runs both stacks' timers and lets callbacks run; when nothing moved, the clock
// jumps to the next event (a TCB deadline or a frame the pair holds back), so retransmission
// timeouts cost no wall-clock time. After each test: reset everything, settle and audit frames.
import { VirtualClock } from '../../ts/dev/memory/clock.js';
import { Interface } from '../../ts/iface/interface.js';
import type { InterfaceConfig } from '../../ts/iface/config.js';
import { SharedNeighbourTable } from '../../ts/iface/neighbour-table.js';
import { TcpStack, type TcpStackOptions } from '../../ts/socket/tcp/tcp-stack.js';
import { PairFixture, type OpenPair } from '../dev/pair-fixture.js';
import type { MemoryPairOptions } from '../../ts/dev/memory/memory-pair.js';

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

export interface TcpBed {
  pair: OpenPair;
  clock: VirtualClock;
  a: Side;
  b: Side;
  /** One round; returns the frames both interfaces handled. */
  round(): Promise<number>;
  /** Rounds until `cond()` or `max` rounds; jumps the clock when idle. */
  until(cond: () => boolean, max?: number): Promise<boolean>;
}

function config(
  mac: string,
  v4: string,
  v6: string,
  peerMac: string,
  peers: string[],
): InterfaceConfig {
  return {
    mac,
    ipv4: [`${v4}/24`],
    ipv6: [`${v6}/64`],
    dad: false,
    gratuitousArp: 0,
    staticNeighbours: peers.map((ip) => ({ ip, mac: peerMac })),
  };
}

export class TcpFixture {
  private readonly pairs = new PairFixture();
  private beds: TcpBed[] = [];

  open(
    pairOptions: MemoryPairOptions = {},
    stackOptions: { a?: TcpStackOptions; b?: TcpStackOptions } = {},
  ): TcpBed {
    const clock = VirtualClock.create(1_000_000);
    const pair = this.pairs.open({ clock, framesPerPort: 1024, ...pairOptions });
    const side = (port: OpenPair['a'], cfg: InterfaceConfig, opts?: TcpStackOptions): Side => {
      const iface = new Interface(port, cfg, {
        neighbours: SharedNeighbourTable.create(64),
        clock,
      });
      return { iface, tcp: new TcpStack(iface, opts) };
    };
    const a = side(pair.a, config(A_MAC, A4, A6, B_MAC, [B4, B6, GHOST4]), stackOptions.a);
    const b = side(pair.b, config(B_MAC, B4, B6, A_MAC, [A4, A6]), stackOptions.b);
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
    const bed: TcpBed = {
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

/** Bytes that differ with position and seed. */
export function pattern(len: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i++) out[i] = (i * 131 + seed * 17 + (i >>> 8)) & 0xff;
  return out;
}
