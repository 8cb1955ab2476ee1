// SO_REUSEPORT listeners of one worker (Linux net/core/sock_reuseport.c): sockets that set
// SO_REUSEPORT before bind(2) and listen on the same address and port form a group over one
// TcpStack listener. Each new connection goes to one member, chosen by a hash of its 4-tuple
// (reuseport_select_sock: reciprocal_scale(hash, num_socks)), and waits on that member's own
// accept queue. A member that closes resets the connections it had not accepted
// (inet_csk_listen_stop; Linux's tcp_migrate_req is off by default); the last one closes the
// stack listener. Across workers, the engine's RSS already spreads connections the same way.
import { TcpEvent } from '../../socket/tcp/host.js';
import type { TcpConn, TcpConnUser, TcpListener } from '../../socket/tcp/tcp-conn.js';
import type { TcpStack } from '../../socket/tcp/tcp-stack.js';
import { EPOLLIN, EPOLLRDNORM } from './constants.js';

/** What a group needs of a member socket. */
export interface ReuseportMember {
  /** Connections handed to this member, oldest first. */
  readonly pending: TcpConn[];
  backlog: number;
  wake(key: number): void;
}

/** Linux's somaxconn: the stack listener's backlog is the members' sum, clamped per member. */
const MAX_BACKLOG = 4096;

export class ReuseportGroup implements TcpConnUser {
  readonly members: ReuseportMember[] = [];

  constructor(
    readonly key: string,
    readonly listener: TcpListener,
    private readonly tcp: TcpStack,
    private readonly groups: Map<string, ReuseportGroup>,
  ) {
    listener.onAcceptable = () => this.distribute();
    groups.set(key, this);
  }

  join(m: ReuseportMember): void {
    this.members.push(m);
    this.resize();
  }

  /** `m` stops listening: its unaccepted connections are reset; the last member closes all. */
  leave(m: ReuseportMember): void {
    const i = this.members.indexOf(m);
    if (i < 0) return;
    this.members.splice(i, 1);
    const orphans = m.pending.splice(0);
    for (const c of orphans) {
      c.user = null;
      c.tcb.abort();
    }
    if (this.members.length === 0) {
      this.listener.onAcceptable = null;
      this.tcp.closeListener(this.listener);
      this.groups.delete(this.key);
    } else this.resize();
  }

  resize(): void {
    let sum = 0;
    for (const m of this.members) sum += m.backlog;
    this.listener.backlog = Math.max(1, Math.min(sum, MAX_BACKLOG * this.members.length));
  }

  // Moves each established connection to the member its 4-tuple hashes to.
  private distribute(): void {
    const n = this.members.length;
    let c: TcpConn | null;
    while (n > 0 && (c = this.listener.accept()) !== null) {
      const m = this.members[reciprocalScale(flowHash(c), n)];
      c.user = this;
      m.pending.push(c);
      m.wake(EPOLLIN | EPOLLRDNORM);
    }
  }

  // A queued connection that dies before accept leaves its queue (as the stack's own accept
  // queue does), so accept(2) does not hand out a dead socket.
  onTcpEvent(c: TcpConn, event: TcpEvent): void {
    if (event !== TcpEvent.Closed) return;
    for (const m of this.members) {
      const i = m.pending.indexOf(c);
      if (i >= 0) {
        m.pending.splice(i, 1);
        return;
      }
    }
  }
}

/** The group key of a bound address: family reach, address and port. */
export function reuseportKey(
  v6Socket: boolean,
  v6Only: boolean,
  addr: string,
  port: number,
): string {
  return `${v6Socket ? (v6Only ? '6only' : '6') : '4'}|${addr}|${port}`;
}

// A 32-bit mix of the remote address and both ports (murmur3's finaliser), so members get a
// fair share of any client port pattern.
function flowHash(c: TcpConn): number {
  let h = (c.remotePort << 16) ^ c.localPort;
  if (c.is4) h ^= Math.imul(c.remote4 | 0, 0x9e3779b1);
  else for (let i = 0; i < 16; i += 4) h ^= Math.imul(readU32(c.remote6, i), 0x85ebca6b + i);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function readU32(b: Uint8Array, i: number): number {
  return (b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3] | 0;
}

// Linux reciprocal_scale: maps a 32-bit hash onto [0, n) without a division.
function reciprocalScale(hash: number, n: number): number {
  return Math.floor((hash * n) / 0x100000000);
}
