// Two engines (Interface + UdpStack each) on the two ports of a memory pair, with static
// neighbours, driven by a small loop: poll both, let microtasks and immediates run, repeat
// until a condition holds or a bounded number of rounds passed. After each test: close the
// sockets and interfaces, settle the pair and audit every frame.
import type { VirtualClock } from '../../ts/dev/memory/clock.js';
import type { Interface } from '../../ts/iface/interface.js';
import type { InterfaceConfig } from '../../ts/iface/config.js';
import { UdpStack, type UdpStackOptions } from '../../ts/socket/udp/udp-stack.js';
import { createSocket, type Socket, type SocketOptions } from '../../ts/api/dgram.js';
import { PairFixture, type OpenPair } from '../dev/pair-fixture.js';
import type { MemoryPairOptions } from '../../ts/dev/memory/memory-pair.js';
import { openInterfacePair } from '../support/interface-pair.js';

export const A_MAC = '02:00:00:00:00:0a';
export const B_MAC = '02:00:00:00:00:0b';
export const A4 = '198.18.14.1';
export const B4 = '198.18.14.2';
export const A6 = '2001:2:0:14::1';
export const B6 = '2001:2:0:14::2';

export interface Engine {
  iface: Interface;
  udp: UdpStack;
  socket(options: Omit<SocketOptions, 'stack'> | 'udp4' | 'udp6'): Socket;
}

export interface Bed {
  pair: OpenPair;
  clock: VirtualClock;
  a: Engine;
  b: Engine;
  /** One round: poll both interfaces, then let microtasks and immediates run. */
  round(): Promise<void>;
  /** Rounds until `cond()` (true) or `max` rounds (false). */
  until(cond: () => boolean, max?: number): Promise<boolean>;
  /** Advances virtual time and ticks both interfaces. */
  advance(ms: number): void;
}

export class UdpFixture {
  private readonly pairs = new PairFixture();
  private beds: Bed[] = [];
  private sockets: Socket[] = [];

  open(
    pairOptions: MemoryPairOptions = {},
    stackOptions: { a?: UdpStackOptions; b?: UdpStackOptions } = {},
    ifaceConfig: Partial<InterfaceConfig> = {},
  ): Bed {
    const { pair, clock, ...ifaces } = openInterfacePair(
      this.pairs,
      { aMac: A_MAC, bMac: B_MAC, a4: A4, b4: B4, a6: A6, b6: B6 },
      { framesPerPort: 512, ...pairOptions },
      ifaceConfig,
    );
    const engine = (iface: Interface, opts?: UdpStackOptions): Engine => {
      const udp = new UdpStack(iface, opts);
      return {
        iface,
        udp,
        socket: (o) => {
          const options = typeof o === 'string' ? { type: o } : o;
          const s = createSocket({ ...options, stack: udp });
          this.sockets.push(s);
          return s;
        },
      };
    };
    const a = engine(ifaces.a, stackOptions.a);
    const b = engine(ifaces.b, stackOptions.b);
    const round = async (): Promise<void> => {
      a.iface.poll();
      b.iface.poll();
      await new Promise((resolve) => setImmediate(resolve));
    };
    const bed: Bed = {
      pair,
      clock,
      a,
      b,
      round,
      async until(cond, max = 200) {
        for (let i = 0; i < max; i++) {
          if (cond()) return true;
          await round();
        }
        return cond();
      },
      advance(ms) {
        clock.advance(ms);
        a.iface.tick(clock.now());
        b.iface.tick(clock.now());
      },
    };
    this.beds.push(bed);
    return bed;
  }

  /** Closes every socket and interface, then settles and audits the pairs. */
  async closeAndAudit(): Promise<void> {
    for (const s of this.sockets) s.close();
    this.sockets = [];
    for (const bed of this.beds) {
      for (let i = 0; i < 4; i++) await bed.round();
      bed.a.iface.close();
      bed.b.iface.close();
    }
    this.beds = [];
    this.pairs.settleAndAudit();
  }
}

/** Resolves with the first 'error' (or the callback error) of `emit`. */
export function nextEvent<T = unknown>(socket: Socket, event: string): Promise<T> {
  return new Promise((resolve) =>
    socket.once(event, (...args: unknown[]) => resolve(args[0] as T)),
  );
}
