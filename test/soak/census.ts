// What the two stacks, the pair and the process hold at a quiet point: the figures a leak would
// grow. Connections, timers and ports come from the stacks' own leak-check getters; listener
// queues from their listeners; frames from the memory pair's custody ledgers and rings; memory
// from the process after full collections; and how many of the connection and socket objects
// the soak has seen are still reachable.
import v8 from 'node:v8';
import vm from 'node:vm';
import { MemoryPair } from '../../ts/dev/memory/memory-pair.js';
import { tcpStateName } from '../../ts/socket/tcp/state.js';
import type { TcpConn } from '../../ts/socket/tcp/tcp-conn.js';
import type { TcpStack } from '../../ts/socket/tcp/tcp-stack.js';
import type { SoakBed } from './soak-bed.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** Fresh jobs (and collections) before an object still reachable counts as leaked. */
const ALIVE_TRIES = 4;

/**
 * Weak references to every object the soak hands it: once nothing holds a closed connection
 * or socket, a full collection must be able to take it.
 */
export class Tracker {
  private readonly seen = new WeakSet<object>();
  private refs: WeakRef<object>[] = [];

  track(o: object): void {
    if (this.seen.has(o)) return;
    this.seen.add(o);
    this.refs.push(new WeakRef(o));
  }

  /**
   * Collects, then counts what is still reachable and forgets the rest. Each try starts in a
   * fresh job (new WeakRef() and deref() keep their target until the job that called them
   * ends) and collects twice. Now and then a closed socket survives that for a turn or two of
   * the event loop with nothing in a heap snapshot holding it (V8's own bookkeeping), so a few
   * tries are allowed: a leaked object survives them all.
   */
  async alive(): Promise<{ alive: number; sample: string | null }> {
    for (let tries = 0; ; tries++) {
      await new Promise((resolve) => setImmediate(resolve));
      gc();
      gc();
      this.refs = this.refs.filter((r) => r.deref() !== undefined);
      if (this.refs.length === 0 || tries === ALIVE_TRIES) break;
    }
    const first = this.refs[0]?.deref();
    return { alive: this.refs.length, sample: first === undefined ? null : describeObject(first) };
  }
}

/** What a still-reachable object is, for the failure message. */
function describeObject(o: object): string {
  const r = o as Record<string, unknown>;
  if ('tcb' in r) {
    const c = o as TcpConn;
    return `TcpConn ${c.localPort}->${c.remotePort} ${tcpStateName(c.tcb.state)} inTable ${c.inTable} heap ${c.heapIndex}`;
  }
  const s = o as { destroyed?: boolean; remotePort?: number; localPort?: number };
  return `${o.constructor.name} ${s.localPort}->${s.remotePort} destroyed ${s.destroyed}`;
}

export interface StackFigures {
  connections: number;
  timers: number;
  ports: number;
  listeners: number;
  /** Children in SYN queues and connections waiting in accept queues, over all listeners. */
  synQueued: number;
  acceptQueued: number;
}

export interface Census {
  a: StackFigures;
  b: StackFigures;
  frames: {
    ok: boolean;
    problems: string[];
    total: number;
    free: number;
    app: number;
    queued: number;
    inRings: number;
  };
  /**
   * Bytes, after two full collections. `code` is the heap's compiled code and bytecode with
   * their metadata, which grows for a while as V8 optimises more paths; `data` is the rest of
   * the heap, where a leak of objects would show.
   */
  memory: {
    heapUsed: number;
    code: number;
    data: number;
    arrayBuffers: number;
    external: number;
    rss: number;
  };
  trackedAlive: number;
  aliveSample: string | null;
}

export function stackFigures(tcp: TcpStack): StackFigures {
  let listeners = 0;
  let synQueued = 0;
  let acceptQueued = 0;
  for (const l of tcp.allListeners()) {
    listeners++;
    synQueued += l.synQueueLength;
    acceptQueued += l.acceptQueue.length;
  }
  return {
    connections: tcp.connectionCount,
    timers: tcp.timerCount,
    ports: tcp.portsInUse,
    listeners,
    synQueued,
    acceptQueued,
  };
}

/** Where every frame of the pair is: all home and free once nothing is in flight. */
function frameFigures(bed: SoakBed): Census['frames'] {
  const audit = MemoryPair.audit(bed.pair.config);
  const problems = [...audit.problems];
  for (const port of [bed.pair.a, bed.pair.b]) {
    const own = port.audit();
    if (!own.ok) problems.push(...own.problems.map((p) => `port ${port.side}: ${p}`));
  }
  const r = audit.rings;
  return {
    ok: problems.length === 0,
    problems,
    total: audit.frames,
    free: audit.a.free + audit.b.free,
    app: audit.a.app + audit.b.app,
    queued: audit.a.queued + audit.b.queued,
    inRings: r.aToB + r.bToA + r.returnToA + r.returnToB,
  };
}

/** Takes the census, collecting garbage first (Tracker.alive). */
export async function takeCensus(bed: SoakBed, tracker: Tracker): Promise<Census> {
  const { alive, sample } = await tracker.alive();
  const m = process.memoryUsage();
  const c = v8.getHeapCodeStatistics();
  const code = c.code_and_metadata_size + c.bytecode_and_metadata_size;
  return {
    a: stackFigures(bed.a.tcp),
    b: stackFigures(bed.b.tcp),
    frames: frameFigures(bed),
    memory: {
      heapUsed: m.heapUsed,
      code,
      data: m.heapUsed - code,
      arrayBuffers: m.arrayBuffers,
      external: m.external,
      rss: m.rss,
    },
    trackedAlive: alive,
    aliveSample: sample,
  };
}
