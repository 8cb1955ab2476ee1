// UDP sockets shaped like Node's `dgram`, over this worker's xdpnet stack. The app module runs
// in every worker and binds in each; each worker's socket receives the flows RSS steers to that
// worker (SO_REUSEPORT semantics). Differences from Node are listed in ts/socket/udp/README.md.
//
// Delivery: with `zeroCopy: true` 'message' is emitted synchronously inside the worker's poll,
// with a Buffer that views the frame (valid only during the listener). Otherwise each datagram
// is copied into its own Buffer, queued (bounded by recvBufferSize) and emitted from a
// microtask once the poll batch returns, as Node emits from the event loop.

import { EventEmitter } from 'node:events';
import { IfaceErrno } from '../iface/errno.js';
import type { RxDatagram } from '../iface/transport.js';
import { formatIpv4Address, formatIpv6Address } from '../wire/address.js';
import { workerStack } from './worker-stack.js';
import { UdpPcb, type UdpReceiver } from '../socket/udp/udp-pcb.js';
import { ERRNO_EADDRINUSE, rethrowLater, type UdpStack } from '../socket/udp/udp-stack.js';
import { Destination, formatDestination, parseDestination } from './dgram-address.js';
import { errnoCode, nodeError, systemError, type SystemError } from './errors.js';

export type SocketType = 'udp4' | 'udp6';

export interface SocketOptions {
  type: SocketType;
  /** Lets several sockets of this worker bind the same address and port (SO_REUSEADDR). */
  reuseAddr?: boolean;
  /** An udp6 socket bound to '::' receives IPv6 only (IPV6_V6ONLY). */
  ipv6Only?: boolean;
  /** Bytes of received datagrams (plus 256 per datagram) queued before drops; copy mode. */
  recvBufferSize?: number;
  /** Bytes of datagrams waiting for a free frame before sends fail with ENOBUFS. */
  sendBufferSize?: number;
  /** Closes the socket when aborted. */
  signal?: AbortSignal;
  /** 'message' gets a view of the frame, valid only during the listener; no copy. */
  zeroCopy?: boolean;
  /**
   * The UDP stack to use; default this worker's (workerStack().udp).
   * @internal A stack built outside an engine worker (tests, perf tools); the public API has no
   * way to build one.
   */
  stack?: UdpStack;
}

export interface RemoteInfo {
  address: string;
  family: 'IPv4' | 'IPv6';
  port: number;
  size: number;
}

export interface AddressInfo {
  address: string;
  family: 'IPv4' | 'IPv6';
  port: number;
}

export type MessageData = string | Uint8Array | DataView | ReadonlyArray<string | Uint8Array>;
export type SendCallback = (error: Error | null, bytes: number) => void;
export type BatchCallback = (error: Error | null, sent: number) => void;

export interface BatchMessage {
  msg: MessageData;
  /** Omitted on a connected socket. */
  port?: number;
  address?: string;
}

export interface SocketStats {
  received: number;
  /** Datagrams dropped because the receive queue was full. */
  receiveDrops: number;
  sent: number;
  sendErrors: number;
  /** Datagrams waiting for a free frame. */
  sendQueueCount: number;
}

const RECV_OVERHEAD = 256; // charged per queued datagram, so empty ones are bounded too

// A send waiting for a frame (the interface returned EAGAIN). Node keeps the caller's buffer
// until the callback, so the data is not copied.
interface PendingSend {
  data: Uint8Array;
  dest: Destination;
  done: SendDone;
}

// Completion of one send() or one sendBatch(): the callback runs once every datagram is done.
class SendDone {
  remaining = 0;
  sent = 0;
  bytes = 0;
  error: Error | null = null;
  constructor(
    readonly callback: ((error: Error | null, n: number) => void) | null,
    readonly batch: boolean,
  ) {}

  settle(error: Error | null, bytes: number): void {
    if (error !== null) {
      if (this.error === null) this.error = error;
    } else {
      this.sent++;
      this.bytes += bytes;
    }
    if (--this.remaining === 0 && this.callback !== null) {
      process.nextTick(this.callback, this.error, this.batch ? this.sent : this.bytes);
    }
  }
}

const BindState = { Unbound: 0, Bound: 1 } as const;

export class Socket extends EventEmitter {
  readonly type: SocketType;
  readonly zeroCopy: boolean;
  private readonly stack: UdpStack;
  private readonly pcb: UdpPcb;
  private readonly v6: boolean;
  private bindState: number = BindState.Unbound;
  private closed = false;
  private closeEmitted = false;
  private recvBufferSize: number;
  private sendBufferSize: number;
  private ttl = 64;
  private broadcast = false;
  private signal: AbortSignal | null = null;
  private readonly onAbort = (): void => {
    if (!this.closed) this.close();
  };

  // Copy-mode receive queue (parallel arrays with a head index; compacted when drained).
  private recvMsgs: Buffer[] = [];
  private recvInfo: RemoteInfo[] = [];
  private recvHead = 0;
  private recvBytes = 0;
  private drainScheduled = false;
  private readonly drain = (): void => this.drainReceived();

  private sendQueue: PendingSend[] = [];
  private sendQueueBytes = 0;
  private retryScheduled = false;
  private readonly retry = (): void => this.retrySends();

  private readonly statsCounters = { received: 0, receiveDrops: 0, sent: 0, sendErrors: 0 };
  // The last destination text parsed and the last source formatted: repeated peers cost no
  // parsing or string building.
  private lastDestText = '';
  private readonly lastDest = new Destination();
  private readonly dest = new Destination();
  private readonly local = new Destination();
  private lastSrc4 = -1;
  private lastSrc4Text = '';
  private readonly lastSrc6 = new Uint8Array(16);
  private lastSrc6Text = '';

  constructor(options: SocketOptions) {
    super();
    const type = options.type;
    if (type !== 'udp4' && type !== 'udp6') {
      throw nodeError(
        'ERR_SOCKET_BAD_TYPE',
        'Bad socket type specified. Valid types are: udp4, udp6',
        TypeError,
      );
    }
    this.type = type;
    this.v6 = type === 'udp6';
    this.zeroCopy = options.zeroCopy === true;
    this.stack = options.stack ?? workerStack().udp;
    this.recvBufferSize = checkSize(options.recvBufferSize, this.stack.recvBufferSize);
    this.sendBufferSize = checkSize(options.sendBufferSize, this.stack.sendBufferSize);
    const receiver: UdpReceiver = {
      onDatagram: (buf, off, len, from, srcPort) => this.receive(buf, off, len, from, srcPort),
      onIcmpError: (code) => this.icmpError(code),
    };
    this.pcb = new UdpPcb(this.v6, options.ipv6Only === true, options.reuseAddr === true, receiver);
    if (options.signal !== undefined) this.watchSignal(options.signal);
  }

  private watchSignal(signal: AbortSignal): void {
    if (typeof signal !== 'object' || signal === null || !('aborted' in signal)) {
      throw nodeError(
        'ERR_INVALID_ARG_TYPE',
        'The "options.signal" property must be an AbortSignal',
        TypeError,
      );
    }
    this.signal = signal;
    if (signal.aborted) process.nextTick(this.onAbort);
    else signal.addEventListener('abort', this.onAbort, { once: true });
  }

  // ---- bind ----------------------------------------------------------------------------------

  bind(port?: number, address?: string, callback?: () => void): this;
  bind(port?: number, callback?: () => void): this;
  bind(callback?: () => void): this;
  bind(options: { port?: number; address?: string; exclusive?: boolean }, cb?: () => void): this;
  bind(...args: unknown[]): this {
    this.healthCheck();
    if (this.bindState !== BindState.Unbound) {
      throw nodeError('ERR_SOCKET_ALREADY_BOUND', 'Socket is already bound');
    }
    let port: unknown = 0;
    let address: unknown;
    const a0 = args[0];
    if (a0 !== null && typeof a0 === 'object') {
      port = (a0 as { port?: unknown }).port ?? 0;
      address = (a0 as { address?: unknown }).address;
    } else if (typeof a0 !== 'function') {
      port = a0 ?? 0;
      if (typeof args[1] === 'string') address = args[1];
    }
    const cb = lastFunction(args) as (() => void) | undefined;
    const p = validatePort(port, true);
    if (address !== undefined && address !== null && typeof address !== 'string') {
      throw nodeError('ERR_INVALID_ARG_TYPE', 'The "address" argument must be a string', TypeError);
    }
    if (cb) this.once('listening', cb);
    const err = this.bindNow(p, (address as string | undefined) || this.wildcard(), null);
    if (err !== null) {
      process.nextTick(() => this.emit('error', err));
      return this;
    }
    process.nextTick(() => this.emit('listening'));
    return this;
  }

  private wildcard(): string {
    return this.v6 ? '::' : '0.0.0.0';
  }

  // Sets the PCB's local addresses from `address` and binds; null or the error to report.
  private bindNow(port: number, address: string, hint: Destination | null): SystemError | null {
    const pcb = this.pcb;
    const local = this.local;
    if (!parseDestination(address, this.v6, local)) {
      return systemError('EINVAL', 'bind', address, port);
    }
    pcb.acceptsV4 = false;
    pcb.acceptsV6 = false;
    pcb.local4 = 0;
    pcb.local6Any = true;
    if (local.is4) {
      if (pcb.ipv6Only) return systemError('EINVAL', 'bind', address, port);
      if (local.addr4 !== 0 && !this.stack.isLocal4(local.addr4)) {
        return systemError('EADDRNOTAVAIL', 'bind', address, port);
      }
      pcb.acceptsV4 = true;
      pcb.local4 = local.addr4;
    } else if (local.addr6.every((b) => b === 0)) {
      pcb.acceptsV6 = true;
      pcb.acceptsV4 = !pcb.ipv6Only;
    } else {
      if (!this.stack.isLocal6(local.addr6, 0)) {
        return systemError('EADDRNOTAVAIL', 'bind', address, port);
      }
      pcb.acceptsV6 = true;
      pcb.local6Any = false;
      pcb.local6.set(local.addr6);
    }
    const r = this.stack.bind(pcb, port, hint);
    if (r < 0) {
      pcb.acceptsV4 = false;
      pcb.acceptsV6 = false;
      const code = r === ERRNO_EADDRINUSE ? 'EADDRINUSE' : errnoCode(r);
      return systemError(code, 'bind', address, port);
    }
    this.bindState = BindState.Bound;
    return null;
  }

  // Implicit bind before the first send or connect, to an RSS-aware port towards `dest`.
  private bindImplicitly(dest: Destination, syscall: string): SystemError | null {
    if (this.bindState !== BindState.Unbound) return null;
    const err = this.bindNow(0, this.wildcard(), dest);
    if (err !== null) {
      err.syscall = syscall;
      return err;
    }
    process.nextTick(() => this.emit('listening'));
    return null;
  }

  // ---- connect -------------------------------------------------------------------------------

  connect(port: number, address?: string, callback?: () => void): this;
  connect(port: number, callback: () => void): this;
  connect(port: number, ...rest: unknown[]): this {
    const p = validatePort(port, false);
    let address = typeof rest[0] === 'string' ? rest[0] : undefined;
    const cb = lastFunction(rest) as ((err?: Error) => void) | undefined;
    this.healthCheck();
    if (this.pcb.connected) {
      throw nodeError('ERR_SOCKET_DGRAM_IS_CONNECTED', 'Already connected');
    }
    address ||= this.v6 ? '::1' : '127.0.0.1';
    const err = this.connectNow(p, address);
    if (err !== null) {
      process.nextTick(() => {
        if (cb) cb(err);
        else this.emit('error', err);
      });
      return this;
    }
    if (cb) this.once('connect', cb);
    process.nextTick(() => this.emit('connect'));
    return this;
  }

  private connectNow(port: number, address: string): SystemError | null {
    const dest = new Destination();
    if (!parseDestination(address, this.v6, dest)) {
      return systemError('EINVAL', 'connect', address, port);
    }
    dest.port = port;
    const bindErr = this.bindImplicitly(dest, 'connect');
    if (bindErr !== null) return bindErr;
    const pcb = this.pcb;
    if (dest.is4 ? !pcb.acceptsV4 : !pcb.acceptsV6) {
      return systemError('ENETUNREACH', 'connect', address, port);
    }
    pcb.remoteIs4 = dest.is4;
    pcb.remote4 = dest.addr4;
    pcb.remote6.set(dest.addr6);
    pcb.remotePort = port;
    pcb.connected = true;
    return null;
  }

  disconnect(): void {
    this.healthCheck();
    if (!this.pcb.connected) {
      throw nodeError('ERR_SOCKET_DGRAM_NOT_CONNECTED', 'Not connected');
    }
    this.pcb.connected = false;
    this.pcb.remotePort = 0;
  }

  // ---- send ----------------------------------------------------------------------------------

  send(msg: MessageData, offset: number, length: number, port?: number, address?: string, callback?: SendCallback): void; // prettier-ignore
  send(msg: MessageData, offset: number, length: number, callback?: SendCallback): void;
  send(msg: MessageData, port?: number, address?: string, callback?: SendCallback): void;
  send(msg: MessageData, port?: number, callback?: SendCallback): void;
  send(msg: MessageData, callback?: SendCallback): void;
  send(msg: MessageData, ...args: unknown[]): void {
    // Node's argument rules (lib/dgram.js Socket.prototype.send).
    const offset = args[0];
    const length = args[1];
    let port = args[2];
    let address = args[3];
    let callback = args[4];
    let data: Uint8Array;
    const connected = this.pcb.connected;
    if (!connected) {
      if (address || (port && typeof port !== 'function')) {
        data = slice(toBytes(msg), offset, length);
      } else {
        data = toBytes(msg);
        callback = port;
        port = offset;
        address = length;
      }
    } else {
      if (typeof length === 'number') {
        data = slice(toBytes(msg), offset, length);
        if (typeof port === 'function') {
          callback = port;
          port = null;
        }
      } else {
        data = toBytes(msg);
        callback = offset;
      }
      if (port || address) throw nodeError('ERR_SOCKET_DGRAM_IS_CONNECTED', 'Already connected');
    }
    if (typeof address === 'function') {
      callback = address;
      address = undefined;
    }
    const p = connected ? this.pcb.remotePort : validatePort(port, false);
    if (address !== undefined && address !== null && typeof address !== 'string') {
      throw nodeError('ERR_INVALID_ARG_TYPE', 'The "address" argument must be a string', TypeError);
    }
    this.healthCheck();
    const done = new SendDone(
      typeof callback === 'function' ? (callback as SendCallback) : null,
      false,
    );
    done.remaining = 1;
    this.sendOne(data, p, address as string | undefined, done);
    this.stack.flush();
  }

  /**
   * Sends several datagrams with one flush to the device (like sendmmsg(2)). The callback gets
   * the first error (or null) and how many datagrams were sent.
   */
  sendBatch(messages: readonly BatchMessage[], callback?: BatchCallback): void {
    this.healthCheck();
    const connected = this.pcb.connected;
    for (const m of messages) {
      if (connected && (m.port || m.address)) {
        throw nodeError('ERR_SOCKET_DGRAM_IS_CONNECTED', 'Already connected');
      }
      if (!connected) validatePort(m.port, false);
    }
    const done = new SendDone(callback ?? null, true);
    done.remaining = messages.length;
    if (messages.length === 0) {
      if (callback) process.nextTick(callback, null, 0);
      return;
    }
    for (const m of messages) {
      const p = connected ? this.pcb.remotePort : (m.port as number);
      this.sendOne(toBytes(m.msg), p, m.address, done);
    }
    this.stack.flush();
  }

  private sendOne(
    data: Uint8Array,
    port: number,
    address: string | undefined,
    done: SendDone,
  ): void {
    const dest = this.destinationOf(port, address);
    if (dest === null) {
      this.fail(done, systemError('EINVAL', 'send', address, port));
      return;
    }
    const bindErr = this.bindImplicitly(dest, 'send');
    if (bindErr !== null) {
      this.fail(done, bindErr);
      return;
    }
    if (dest.is4 && !this.broadcast && this.stack.iface.addresses.isBroadcast4(dest.addr4)) {
      this.fail(done, systemError('EACCES', 'send', address, port)); // Linux without SO_BROADCAST
      return;
    }
    if (this.sendQueue.length > 0) {
      this.enqueue(data, dest, done);
      return;
    }
    const r = this.transmit(data, dest);
    if (r === IfaceErrno.EAGAIN) this.enqueue(data, dest, done);
    else this.complete(done, r, data.length, dest);
  }

  // The destination of a send, parsed once per distinct text; null when unusable.
  private destinationOf(port: number, address: string | undefined): Destination | null {
    const pcb = this.pcb;
    const d = this.dest;
    if (pcb.connected) {
      d.is4 = pcb.remoteIs4;
      d.addr4 = pcb.remote4;
      d.addr6.set(pcb.remote6);
      d.port = pcb.remotePort;
      return d;
    }
    const text = address || (this.v6 ? '::1' : '127.0.0.1');
    if (text !== this.lastDestText) {
      if (!parseDestination(text, this.v6, this.lastDest)) return null;
      this.lastDestText = text;
    }
    d.copyFrom(this.lastDest);
    d.port = port;
    return d;
  }

  private transmit(data: Uint8Array, d: Destination): number {
    return d.is4
      ? this.stack.send4(this.pcb, data, 0, data.length, d.addr4, d.port)
      : this.stack.send6(this.pcb, data, 0, data.length, d.addr6, 0, d.port);
  }

  private complete(done: SendDone, r: number, bytes: number, d: Destination): void {
    if (r === 0) {
      this.statsCounters.sent++;
      done.settle(null, bytes);
    } else {
      this.fail(done, systemError(errnoCode(r), 'send', formatDestination(d, this.v6), d.port));
    }
  }

  private fail(done: SendDone, err: Error): void {
    this.statsCounters.sendErrors++;
    done.settle(err, 0);
  }

  private enqueue(data: Uint8Array, dest: Destination, done: SendDone): void {
    if (this.sendQueueBytes + data.length > this.sendBufferSize) {
      this.stack.stats.sndbufErrors++;
      this.fail(done, systemError('ENOBUFS', 'send', formatDestination(dest, this.v6), dest.port));
      return;
    }
    this.sendQueue.push({ data, dest: new Destination().copyFrom(dest), done });
    this.sendQueueBytes += data.length;
    if (!this.retryScheduled) {
      this.retryScheduled = true;
      setImmediate(this.retry);
    }
  }

  // Frames free up when the worker's poll reaps completions; try again after it.
  private retrySends(): void {
    this.retryScheduled = false;
    const q = this.sendQueue;
    let i = 0;
    while (i < q.length && !this.closed) {
      const s = q[i];
      const r = this.transmit(s.data, s.dest);
      if (r === IfaceErrno.EAGAIN) break;
      i++;
      this.sendQueueBytes -= s.data.length;
      this.complete(s.done, r, s.data.length, s.dest);
    }
    q.splice(0, i);
    this.stack.flush();
    if (q.length > 0 && !this.closed) {
      this.retryScheduled = true;
      setImmediate(this.retry);
    }
  }

  // ---- receive -------------------------------------------------------------------------------

  private receive(buf: Uint8Array, off: number, len: number, from: RxDatagram, port: number): void {
    if (this.closed) return;
    if (this.zeroCopy) {
      this.statsCounters.received++;
      const view = Buffer.from(buf.buffer, buf.byteOffset + off, len);
      const info = this.remoteInfo(buf, from, port, len);
      try {
        this.emit('message', view, info);
      } catch (err) {
        this.stack.stats.listenerErrors++;
        rethrowLater(err);
      }
      return;
    }
    const charge = len + RECV_OVERHEAD;
    if (this.recvBytes + charge > this.recvBufferSize) {
      this.statsCounters.receiveDrops++;
      this.stack.stats.rcvbufErrors++;
      return;
    }
    this.statsCounters.received++;
    const msg = Buffer.allocUnsafe(len);
    msg.set(buf.subarray(off, off + len));
    this.recvMsgs.push(msg);
    this.recvInfo.push(this.remoteInfo(buf, from, port, len));
    this.recvBytes += charge;
    if (!this.drainScheduled) {
      this.drainScheduled = true;
      queueMicrotask(this.drain);
    }
  }

  private drainReceived(): void {
    this.drainScheduled = false;
    const msgs = this.recvMsgs;
    const infos = this.recvInfo;
    while (this.recvHead < msgs.length && !this.closed) {
      const i = this.recvHead++;
      const msg = msgs[i];
      this.recvBytes -= msg.length + RECV_OVERHEAD;
      try {
        this.emit('message', msg, infos[i]);
      } catch (err) {
        this.stack.stats.listenerErrors++;
        rethrowLater(err);
      }
    }
    this.recvMsgs = [];
    this.recvInfo = [];
    this.recvHead = 0;
    this.recvBytes = 0;
    // Listeners that sent replies from here: one flush for all of them.
    this.stack.flush();
  }

  private remoteInfo(buf: Uint8Array, from: RxDatagram, port: number, size: number): RemoteInfo {
    if (from.family === 4) {
      const a = from.src4;
      if (a !== this.lastSrc4) {
        this.lastSrc4 = a;
        this.lastSrc4Text = this.v6 ? `::ffff:${formatIpv4Address(a)}` : formatIpv4Address(a);
      }
      return { address: this.lastSrc4Text, family: this.v6 ? 'IPv6' : 'IPv4', port, size };
    }
    const o = from.srcOff;
    const last = this.lastSrc6;
    let same = this.lastSrc6Text !== '';
    for (let i = 0; i < 16 && same; i++) same = last[i] === buf[o + i];
    if (!same) {
      last.set(buf.subarray(o, o + 16));
      this.lastSrc6Text = formatIpv6Address(buf, o);
    }
    return { address: this.lastSrc6Text, family: 'IPv6', port, size };
  }

  // Linux reports ICMP errors to connected sockets on the next receive; Node's always-pending
  // recvmsg turns that into an 'error' event (syscall 'recvmsg').
  private icmpError(code: string): void {
    if (this.closed) return;
    const pcb = this.pcb;
    const addr = pcb.remoteIs4
      ? this.v6
        ? `::ffff:${formatIpv4Address(pcb.remote4)}`
        : formatIpv4Address(pcb.remote4)
      : formatIpv6Address(pcb.remote6, 0);
    const err = systemError(code, 'recvmsg', addr, pcb.remotePort);
    process.nextTick(() => {
      if (!this.closed) this.emit('error', err);
    });
  }

  // ---- close and state -----------------------------------------------------------------------

  /** Closes the socket; idempotent (later calls only add `callback` to 'close'). */
  close(callback?: () => void): this {
    if (typeof callback === 'function') {
      if (this.closeEmitted) process.nextTick(callback);
      else this.once('close', callback);
    }
    if (this.closed) return this;
    this.closed = true;
    this.stack.unbind(this.pcb);
    this.pcb.connected = false;
    this.recvMsgs = [];
    this.recvInfo = [];
    this.recvHead = 0;
    this.recvBytes = 0;
    const pending = this.sendQueue;
    this.sendQueue = [];
    this.sendQueueBytes = 0;
    for (const s of pending) {
      this.fail(s.done, nodeError('ERR_SOCKET_DGRAM_NOT_RUNNING', 'Socket closed before sending'));
    }
    if (this.signal !== null) this.signal.removeEventListener('abort', this.onAbort);
    process.nextTick(() => {
      this.closeEmitted = true;
      this.emit('close');
    });
    return this;
  }

  address(): AddressInfo {
    this.healthCheck();
    if (this.bindState !== BindState.Bound) throw systemError('EBADF', 'getsockname');
    const pcb = this.pcb;
    let address: string;
    if (pcb.acceptsV6) address = pcb.local6Any ? '::' : formatIpv6Address(pcb.local6, 0);
    else address = (this.v6 ? '::ffff:' : '') + formatIpv4Address(pcb.local4);
    return { address, family: this.v6 ? 'IPv6' : 'IPv4', port: pcb.localPort };
  }

  remoteAddress(): AddressInfo {
    this.healthCheck();
    const pcb = this.pcb;
    if (!pcb.connected) throw nodeError('ERR_SOCKET_DGRAM_NOT_CONNECTED', 'Not connected');
    let address: string;
    if (!pcb.remoteIs4) address = formatIpv6Address(pcb.remote6, 0);
    else address = (this.v6 ? '::ffff:' : '') + formatIpv4Address(pcb.remote4);
    return { address, family: this.v6 ? 'IPv6' : 'IPv4', port: pcb.remotePort };
  }

  private healthCheck(): void {
    if (this.closed) throw nodeError('ERR_SOCKET_DGRAM_NOT_RUNNING', 'Not running');
  }

  // ---- options -------------------------------------------------------------------------------

  /** Stored only: the interface sends with its configured TTL for now. */
  setTTL(ttl: number): number {
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > 255) throw systemError('EINVAL', 'setTTL');
    this.ttl = ttl;
    return ttl;
  }

  getTTL(): number {
    return this.ttl;
  }

  /** Allows sending to broadcast addresses (SO_BROADCAST); without it they fail with EACCES. */
  setBroadcast(flag: boolean): void {
    this.broadcast = flag === true;
  }

  setRecvBufferSize(size: number): void {
    this.recvBufferSize = checkSize(size, this.recvBufferSize);
  }

  setSendBufferSize(size: number): void {
    this.sendBufferSize = checkSize(size, this.sendBufferSize);
  }

  getRecvBufferSize(): number {
    return this.recvBufferSize;
  }

  getSendBufferSize(): number {
    return this.sendBufferSize;
  }

  getSendQueueSize(): number {
    return this.sendQueueBytes;
  }

  getSendQueueCount(): number {
    return this.sendQueue.length;
  }

  getStats(): SocketStats {
    return { ...this.statsCounters, sendQueueCount: this.sendQueue.length };
  }

  /** The worker's loop keeps running regardless; kept for Node compatibility. */
  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }
}

/** Node's dgram.createSocket: a type or options, and an optional 'message' listener. */
export function createSocket(
  typeOrOptions: SocketType | SocketOptions,
  callback?: (msg: Buffer, rinfo: RemoteInfo) => void,
): Socket {
  const options = typeof typeOrOptions === 'string' ? { type: typeOrOptions } : typeOrOptions;
  const socket = new Socket(options);
  if (typeof callback === 'function') socket.on('message', callback);
  return socket;
}

function validatePort(port: unknown, allowZero: boolean): number {
  let p = port;
  if (typeof p === 'string' && /^[0-9]+$/.test(p.trim())) p = Number(p);
  if (
    typeof p !== 'number' ||
    !Number.isInteger(p) ||
    p < 0 ||
    p > 65535 ||
    (p === 0 && !allowZero)
  ) {
    throw nodeError(
      'ERR_SOCKET_BAD_PORT',
      `Port should be ${allowZero ? '>=' : '>'} 0 and < 65536. Received ${String(port)}.`,
      RangeError,
    );
  }
  return p;
}

function lastFunction(args: unknown[]): unknown {
  for (let i = args.length - 1; i >= 0; i--) if (typeof args[i] === 'function') return args[i];
  return undefined;
}

function checkSize(size: number | undefined, fallback: number): number {
  if (size === undefined) return fallback;
  if (!Number.isInteger(size) || size < 1 || size > 0x7fffffff) {
    throw nodeError('ERR_SOCKET_BUFFER_SIZE', `Buffer size ${size} must be a positive integer`);
  }
  return size;
}

function toBytes(msg: MessageData): Uint8Array {
  if (typeof msg === 'string') return Buffer.from(msg);
  if (msg instanceof Uint8Array) return msg;
  if (ArrayBuffer.isView(msg)) return new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength);
  if (Array.isArray(msg)) {
    return Buffer.concat(
      msg.map((m: string | Uint8Array) => (typeof m === 'string' ? Buffer.from(m) : m)),
    );
  }
  throw nodeError(
    'ERR_INVALID_ARG_TYPE',
    'The "buffer" argument must be a string, Buffer, TypedArray, DataView or an array of them',
    TypeError,
  );
}

function slice(data: Uint8Array, offset: unknown, length: unknown): Uint8Array {
  const o = (offset as number) >>> 0;
  const l = length === undefined ? data.length - o : (length as number) >>> 0;
  if (o > data.length || o + l > data.length) {
    throw nodeError(
      'ERR_OUT_OF_RANGE',
      `offset ${o} + length ${l} exceed ${data.length}`,
      RangeError,
    );
  }
  return data.subarray(o, o + l);
}
