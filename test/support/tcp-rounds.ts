// The loop that drives two TCP stacks on an interface pair in virtual time. A round settles
// both stacks (what the test wrote), runs their timers, polls both interfaces, ticks the interfaces every 100 ms of virtual time and
// lets callbacks run; when a round moved nothing, the clock jumps to the next event (a TCB
// deadline or a frame the pair holds back), so retransmission timeouts cost no wall-clock time.
import type { TcpStack } from '../../ts/socket/tcp/tcp-stack.js';
import type { InterfacePair } from './interface-pair.js';

export interface TcpRounds {
  /** One round; returns the frames both interfaces handled. */
  round(): Promise<number>;
  /** Rounds until `cond()` or `max` rounds; jumps the clock when idle. */
  until(cond: () => boolean, max?: number): Promise<boolean>;
}

export function tcpRounds(
  { pair, clock, a, b }: InterfacePair,
  aTcp: TcpStack,
  bTcp: TcpStack,
): TcpRounds {
  let lastTick = clock.now();
  // The worker loop's settle: what the app wrote or ended since, and the owed ACKs, in one flush.
  const settle = (): void => {
    aTcp.settle();
    bTcp.settle();
    a.flush();
    b.flush();
  };
  const round = async (): Promise<number> => {
    // As the worker loop does: settle what the test did since the last round, then due timers,
    // so the polls' flushes send what they queued, and settle again after the callbacks.
    settle();
    aTcp.runTimers();
    bTcp.runTimers();
    const n = a.poll() + b.poll();
    if (clock.now() - lastTick >= 100) {
      lastTick = clock.now();
      a.tick();
      b.tick();
    }
    await new Promise((resolve) => setImmediate(resolve));
    settle();
    return n;
  };
  const until = async (cond: () => boolean, max = 2000): Promise<boolean> => {
    for (let i = 0; i < max; i++) {
      if (cond()) return true;
      const n = await round();
      if (n === 0 && !cond()) {
        const next = Math.min(
          aTcp.nextDeadline(),
          bTcp.nextDeadline(),
          pair.a.nextEventTime(),
          pair.b.nextEventTime(),
          clock.now() + 50,
        );
        clock.advanceTo(Math.max(next, clock.now() + 0.1));
      }
    }
    return cond();
  };
  return { round, until };
}
