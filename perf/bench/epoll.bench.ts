// epollWait cost against the number of watched descriptors: 10 ready out of 100 watched vs 10
// ready out of 100,000 watched (level-triggered, so the same 10 are reported by every call). The
// ready list makes a wait O(ready): the two figures should be about equal. poll(2) over the same
// descriptors is measured beside it for contrast (it visits every one: O(watched)).
// Run: node dist/perf/bench/epoll.bench.js [--seconds-per-case 1]
import Benchmark from 'benchmark';
import { loadavg } from 'node:os';
import { EPOLL_CTL_ADD, EPOLLIN } from '../../ts/api/sys/constants.js';
import { type EpollFile, epollEvents } from '../../ts/api/sys/epoll.js';
import { SysFile } from '../../ts/api/sys/file.js';
import { Sys } from '../../ts/api/sys/sys.js';
import type { PollFd } from '../../ts/api/sys/sys.js';
import type { TcpStack } from '../../ts/socket/tcp/tcp-stack.js';
import type { UdpStack } from '../../ts/socket/udp/udp-stack.js';

const READY = 10;
const SIZES = [100, 100_000];

/** A descriptor whose readiness is a flag (an eventfd, in effect): epoll's cost alone. */
class FlagFile extends SysFile {
  constructor(readonly ready: boolean) {
    super();
  }
  poll(): number {
    return this.ready ? EPOLLIN : 0;
  }
  release(): void {}
}

function secondsPerCase(): number {
  const i = process.argv.indexOf('--seconds-per-case');
  return i > 0 ? Number(process.argv[i + 1]) : 1;
}

interface Setup {
  sys: Sys;
  ep: number;
  pollFds: PollFd[];
}

// N flag files watched by one epoll, READY of them (spread evenly) ready.
function setup(watched: number): Setup {
  // Only the descriptor table and epoll are used: no stacks behind them.
  const none = {} as TcpStack & UdpStack;
  const sys = new Sys({ tcp: none, udp: none }, { fdLimit: watched + 16 });
  const ep = sys.epollCreate1();
  const stride = Math.floor(watched / READY);
  const pollFds: PollFd[] = [];
  for (let i = 0; i < watched; i++) {
    const fd = sys.fds.install(new FlagFile(i % stride === 0));
    if (fd < 0 || sys.epollCtl(ep, EPOLL_CTL_ADD, fd, { events: EPOLLIN }) !== 0) {
      throw new Error(`setup failed at ${i}: ${fd}`);
    }
    pollFds.push({ fd, events: EPOLLIN, revents: 0 });
  }
  return { sys, ep, pollFds };
}

function main(): void {
  const seconds = secondsPerCase();
  const events = epollEvents(64);
  const suite = new Benchmark.Suite();
  const nsPerWait: Record<number, number> = {};
  const nsPerPoll: Record<number, number> = {};
  // Ready-list entries one wait examines: the deterministic side of the same claim.
  const visitsPerWait: Record<number, number> = {};
  for (const n of SIZES) {
    const s = setup(n);
    const got = s.sys.epollWaitSync(s.ep, events);
    if (got !== READY) throw new Error(`expected ${READY} ready of ${n}, got ${got}`);
    const epFile = s.sys.fds.get(s.ep) as EpollFile;
    const v0 = epFile.visited;
    for (let i = 0; i < 1000; i++) s.sys.epollWaitSync(s.ep, events);
    visitsPerWait[n] = (epFile.visited - v0) / 1000;
    if (s.sys.poll(s.pollFds) !== READY) throw new Error('poll disagrees');
    let sink = 0;
    suite.add(
      `epollWait, ${READY} ready of ${n} watched`,
      () => {
        sink += s.sys.epollWaitSync(s.ep, events);
      },
      {
        maxTime: seconds,
        onComplete: (e: Benchmark.Event) => {
          nsPerWait[n] = 1e9 / (e.target as { hz: number }).hz;
          if (sink === 0) throw new Error('nothing reported');
        },
      },
    );
    suite.add(
      `poll,      ${READY} ready of ${n} watched`,
      () => {
        sink += s.sys.poll(s.pollFds);
      },
      {
        maxTime: seconds,
        onComplete: (e: Benchmark.Event) => {
          nsPerPoll[n] = 1e9 / (e.target as { hz: number }).hz;
        },
      },
    );
  }
  suite.on('cycle', (e: Benchmark.Event) => console.log(String(e.target)));
  suite.on('complete', () => {
    const [small, large] = SIZES;
    const f = (x: number) => x.toFixed(0);
    console.log(
      `\nloadavg ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')} (shared 2-core VM: noisy)`,
    );
    console.log(
      `epollWait ns/call: ${f(nsPerWait[small])} (${small} watched), ${f(nsPerWait[large])} (${large} watched), ratio ${(nsPerWait[large] / nsPerWait[small]).toFixed(2)}`,
    );
    console.log(
      `poll      ns/call: ${f(nsPerPoll[small])} (${small} watched), ${f(nsPerPoll[large])} (${large} watched), ratio ${(nsPerPoll[large] / nsPerPoll[small]).toFixed(2)}`,
    );
    console.log(
      `ready-list entries visited per epollWait: ${visitsPerWait[small]} (${small} watched), ${visitsPerWait[large]} (${large} watched)`,
    );
    console.log(
      JSON.stringify({
        bench: 'epoll',
        ready: READY,
        epollWaitNs: nsPerWait,
        pollNs: nsPerPoll,
        visitsPerWait,
      }),
    );
  });
  suite.run();
}

main();
