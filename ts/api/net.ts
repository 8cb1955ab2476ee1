// Node's `net` on xdpnet's TCP: createServer/connect, a Server that listens in this worker
// (every worker listens: SO_REUSEPORT semantics) and a Socket that is a stream.Duplex over one
// TCB. Backpressure is the TCB's: write() returns false once the send buffer is full and the
// chunk waits for ACKs ('drain' follows); a paused socket stops reading, the receive buffer
// fills and the advertised window closes. Hosts are IP literals (no DNS in the engine).

import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { Duplex } from 'node:stream';
import { inspect } from 'node:util';
import { workerStack } from './worker-stack.js';
import type { TcpConn, TcpListener } from '../socket/tcp/tcp-conn.js';
import type { TcpStack } from '../socket/tcp/tcp-stack.js';
import { TcpState } from '../socket/tcp/state.js';
import {
  formatIpv4Address,
  formatIpv6Address,
  parseIpv4Address,
  parseIpv6Address,
} from '../wire/address.js';
import { errnoCode, nodeError, systemError } from './errors.js';
import { ReadSlab } from './read-slab.js';
import { Errno, errnoName } from './sys/errno.js';
import { HandleEvent, TcpHandle, type TcpHandleUser } from './tcp-handle.js';

const READ_CHUNK = 64 * 1024;
/** This thread's Buffers for received data (each worker has its own module instance). */
const readSlab = new ReadSlab();

export interface SocketOptions {
  allowHalfOpen?: boolean;
  signal?: AbortSignal;
  /**
   * The TCP stack to use; default this worker's (workerStack().tcp).
   * @internal A stack built outside an engine worker (tests, perf tools); the public API has no
   * way to build one.
   */
  stack?: TcpStack;
  readableHighWaterMark?: number;
  writableHighWaterMark?: number;
}

export interface ConnectOptions extends SocketOptions {
  port: number;
  host?: string;
  localAddress?: string;
  localPort?: number;
  family?: 4 | 6 | 0;
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
  timeout?: number;
  /**
   * xdpnet's extension (Node has no such option): SYN retransmissions before connect fails with
   * ETIMEDOUT, an integer 1..127, as Linux's TCP_SYNCNT socket option and tcp_syn_retries
   * sysctl. Retransmissions back off exponentially from a 1 s RTO, so the default 6 gives up
   * after about 127 s; 2 gives up after about 7 s.
   */
  synRetries?: number;
}

/** Linux MAX_TCP_SYNCNT: TCP_SYNCNT accepts 1..127. */
const MAX_SYN_RETRIES = 127;

// As Node's validateInt32(value, name, min, max): a non-number is ERR_INVALID_ARG_TYPE, a
// fraction or a value out of bounds ERR_OUT_OF_RANGE, with Node's message wording.
function validateSynRetries(value: unknown): number {
  const name = 'options.synRetries';
  if (typeof value !== 'number') {
    throw nodeError(
      'ERR_INVALID_ARG_TYPE',
      `The "${name}" property must be of type number. Received ${describeReceived(value)}`,
      TypeError,
    );
  }
  if (!Number.isInteger(value)) {
    throw nodeError(
      'ERR_OUT_OF_RANGE',
      `The value of "${name}" is out of range. It must be an integer. Received ${value}`,
      RangeError,
    );
  }
  if (value < 1 || value > MAX_SYN_RETRIES) {
    throw nodeError(
      'ERR_OUT_OF_RANGE',
      `The value of "${name}" is out of range. It must be >= 1 && <= ${MAX_SYN_RETRIES}. Received ${value}`,
      RangeError,
    );
  }
  return value;
}

// Node's determineSpecificType (lib/internal/errors.js), for the "Received ..." part.
function describeReceived(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'function') return `function ${value.name}`;
  if (typeof value === 'object') {
    const name = (value as { constructor?: { name?: string } }).constructor?.name;
    return name ? `an instance of ${name}` : inspect(value, { depth: -1 });
  }
  let shown = inspect(value, { colors: false });
  if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
  return `type ${typeof value} (${shown})`;
}

export interface AddressInfo {
  address: string;
  family: 'IPv4' | 'IPv6';
  port: number;
}

function defaultStack(): TcpStack {
  const s = workerStack() as { tcp?: TcpStack };
  if (s.tcp === undefined) {
    throw Object.assign(new Error('this worker has no TCP stack'), { code: 'ENOTSUP' });
  }
  return s.tcp;
}

function formatLocal(c: TcpConn): string {
  return c.is4 ? formatIpv4Address(c.local4) : formatIpv6Address(c.local6);
}

function formatRemote(c: TcpConn): string {
  return c.is4 ? formatIpv4Address(c.remote4) : formatIpv6Address(c.remote6);
}

/** Linux MAX_TCP_KEEPIDLE: TCP_KEEPIDLE takes 1..32767 seconds. */
const MAX_TCP_KEEPIDLE_S = 32767;

export class Socket extends Duplex implements TcpHandleUser {
  connecting = false;
  bytesRead = 0;
  private readonly handle = new TcpHandle(this);
  private stack: TcpStack | null;
  private reading = false;
  private peerEnded = false;
  private eofPushed = false;
  private resetting = false;
  /**
   * The write in progress: one chunk from _write (pendingOne), or the entries _writev got
   * (pendingMany), without an array per write.
   */
  private pendingOne: Buffer | null = null;
  private pendingMany: readonly { chunk: Buffer }[] | null = null;
  private pendingCount = 0;
  private pendingIndex = 0;
  private pendingOff = 0;
  private pendingCb: ((err?: Error | null) => void) | null = null;
  private finalCb: ((err?: Error | null) => void) | null = null;
  private written = 0;
  private timeoutMs = 0;
  private timer: NodeJS.Timeout | null = null;
  private info: { local: AddressInfo; remote: AddressInfo } | null = null;
  private target: { host: string; port: number } = { host: '', port: 0 };

  constructor(options: SocketOptions = {}) {
    super({
      allowHalfOpen: options.allowHalfOpen ?? false,
      emitClose: false,
      decodeStrings: true,
      readableHighWaterMark: options.readableHighWaterMark,
      writableHighWaterMark: options.writableHighWaterMark,
    });
    this.stack = options.stack ?? null;
    const signal = options.signal;
    if (signal !== undefined) {
      if (signal.aborted) process.nextTick(() => this.destroy(abortError(signal)));
      else signal.addEventListener('abort', () => this.destroy(abortError(signal)), { once: true });
    }
  }

  // ---- addresses -----------------------------------------------------------------------------

  get remoteAddress(): string | undefined {
    return this.info?.remote.address;
  }
  get remotePort(): number | undefined {
    return this.info?.remote.port;
  }
  get remoteFamily(): string | undefined {
    return this.info?.remote.family;
  }
  get localAddress(): string | undefined {
    return this.info?.local.address;
  }
  get localPort(): number | undefined {
    return this.info?.local.port;
  }
  get bytesWritten(): number {
    return this.written;
  }
  get pending(): boolean {
    return this.handle.conn === null || this.connecting;
  }
  get readyState(): string {
    if (this.connecting) return 'opening';
    if (this.readable && this.writable) return 'open';
    if (this.readable) return 'readOnly';
    if (this.writable) return 'writeOnly';
    return 'closed';
  }

  address(): AddressInfo | Record<string, never> {
    return this.info?.local ?? {};
  }

  private fillInfo(c: TcpConn): void {
    const family = c.is4 ? 'IPv4' : 'IPv6';
    this.info = {
      local: { address: formatLocal(c), family, port: c.localPort },
      remote: { address: formatRemote(c), family, port: c.remotePort },
    };
  }

  // ---- opening -------------------------------------------------------------------------------

  connect(options: ConnectOptions | number, host?: string | (() => void), cb?: () => void): this {
    let o: ConnectOptions;
    if (typeof options === 'number') {
      if (typeof host === 'function') {
        cb = host;
        host = undefined;
      }
      o = { port: options, host };
    } else {
      o = options;
      if (typeof host === 'function') cb = host;
    }
    if (cb !== undefined) this.once('connect', cb);
    if (this.handle.conn !== null || this.connecting) {
      throw nodeError('ERR_SOCKET_CONNECTING', 'socket is already connecting or connected');
    }
    const port = o.port;
    if (!Number.isInteger(port) || port <= 0 || port > 65535) {
      throw nodeError(
        'ERR_SOCKET_BAD_PORT',
        `port must be 1-65535, got ${String(port)}`,
        RangeError,
      );
    }
    const hostText = o.host ?? (o.family === 6 ? '::1' : '127.0.0.1');
    const fam = isIP(hostText);
    if (fam === 0) {
      throw nodeError(
        'ERR_INVALID_ARG_VALUE',
        `host must be an IP address (the engine does no DNS lookups), got ${hostText}`,
        TypeError,
      );
    }
    const overrides =
      o.synRetries === undefined ? {} : { synRetries: validateSynRetries(o.synRetries) };
    this.stack ??= defaultStack();
    this.target = { host: hostText, port };
    // Options wait for the handshake (applied with 'connect').
    this.handle.deferOptions = true;
    if (o.noDelay) this.setNoDelay(true);
    if (o.keepAlive) this.setKeepAlive(true, o.keepAliveInitialDelay ?? 0);
    if (o.timeout !== undefined) this.setTimeout(o.timeout);
    const is4 = fam === 4;
    const local: { addr4?: number; addr6?: Uint8Array; port?: number } = { port: o.localPort };
    if (o.localAddress !== undefined) {
      if (is4) local.addr4 = parseIpv4Address(o.localAddress);
      else local.addr6 = parseIpv6Address(o.localAddress);
    }
    const r = this.handle.connect(
      this.stack,
      {
        is4,
        addr4: is4 ? parseIpv4Address(hostText) : 0,
        addr6: is4 ? new Uint8Array(16) : parseIpv6Address(hostText),
        port,
      },
      local,
      overrides,
    );
    if (r < 0) {
      const err = systemError(errnoCode(r), 'connect', hostText, port);
      process.nextTick(() => this.destroy(err));
      return this;
    }
    this.connecting = true;
    return this;
  }

  /**
   * For Server: a connection taken off a listener's accept queue.
   * @internal
   */
  attachAccepted(c: TcpConn, stack: TcpStack): void {
    this.stack = stack;
    this.handle.adopt(c);
    this.fillInfo(c);
    // Data or a FIN that arrived while it was queued went to nobody.
    if (c.tcb.readable() > 0 || c.tcb.state === TcpState.CloseWait) {
      this.handle.post(
        HandleEvent.Readable | (c.tcb.state !== TcpState.Established ? HandleEvent.PeerClosed : 0),
      );
    }
  }

  // ---- events from the stack (batched to after the current poll) -----------------------------

  /** @internal The TcpHandle's events (TcpHandleUser). */
  onHandleEvents(ev: number): void {
    const h = this.handle;
    const c = h.conn;
    if (c === null) return;
    if ((ev & HandleEvent.Connected) !== 0 && this.connecting) {
      this.connecting = false;
      this.fillInfo(c);
      h.applyOptions();
      this.emit('connect');
      this.emit('ready');
      this.pumpWrite();
      if (this.finalCb !== null) this.finishWrite(this.finalCb);
    }
    if ((ev & HandleEvent.PeerClosed) !== 0) this.peerEnded = true;
    if ((ev & (HandleEvent.Readable | HandleEvent.PeerClosed)) !== 0) this.pullData();
    if ((ev & HandleEvent.Writable) !== 0) this.pumpWrite();
    if ((ev & (HandleEvent.Error | HandleEvent.Closed)) !== 0) {
      const e = h.error;
      h.detach();
      if (e !== 0) {
        const syscall = this.connecting ? 'connect' : 'read';
        const where = this.info?.remote ?? { address: this.target.host, port: this.target.port };
        this.destroy(systemError(errnoName(e), syscall, where.address, where.port));
      } else if (this.pendingCb !== null || (!this.writableFinished && this.writableLength > 0)) {
        this.destroy(systemError('EPIPE', 'write'));
      } else if (!this.eofPushed) {
        this.pushEof();
      }
    }
  }

  private pullData(): void {
    const h = this.handle;
    if (h.conn === null) return;
    while (this.reading && h.readable() > 0) {
      const n = Math.min(h.readable(), READ_CHUNK);
      const buf = readSlab.take(n);
      const got = h.recv(buf, 0, n, false); // n <= readable(): all of it
      this.bytesRead += got;
      this.touch();
      if (!this.push(buf)) this.reading = false;
    }
    if (this.peerEnded && h.readable() === 0 && !this.eofPushed) this.pushEof();
  }

  private pushEof(): void {
    this.eofPushed = true;
    this.push(null);
  }

  override _read(): void {
    this.reading = true;
    this.pullData();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.startWrite(chunk, null, 1, cb);
  }

  /** Chunks queued while corked or while a write waited: one pass into the TCB, one send. */
  override _writev(
    chunks: { chunk: Buffer; encoding: BufferEncoding }[],
    cb: (err?: Error | null) => void,
  ): void {
    this.startWrite(null, chunks, chunks.length, cb);
  }

  private startWrite(
    one: Buffer | null,
    many: readonly { chunk: Buffer }[] | null,
    count: number,
    cb: (err?: Error | null) => void,
  ): void {
    this.pendingOne = one;
    this.pendingMany = many;
    this.pendingCount = count;
    this.pendingIndex = 0;
    this.pendingOff = 0;
    this.pendingCb = cb;
    this.touch();
    if (!this.connecting) this.pumpWrite();
  }

  private pumpWrite(): void {
    const h = this.handle;
    if (this.pendingCb === null || h.conn === null || this.connecting) return;
    const many = this.pendingMany;
    const count = this.pendingCount;
    // Every chunk but the last is written with `more` (MSG_MORE): the TCB sends once, after the
    // last one, in full-sized segments.
    while (this.pendingIndex < count) {
      const chunk = many === null ? (this.pendingOne as Buffer) : many[this.pendingIndex].chunk;
      const more = this.pendingIndex + 1 < count;
      const want = chunk.length - this.pendingOff;
      if (want === 0) {
        if (!more) h.push(); // an empty last chunk still sends what the others queued
      } else {
        const n = h.write(chunk, this.pendingOff, want, more);
        if (n < 0) {
          if (n !== -Errno.EAGAIN) this.destroy(systemError('EPIPE', 'write'));
          return; // the rest goes when ACKs free room (Writable)
        }
        this.pendingOff += n;
        this.written += n;
        this.touch(); // as Node's sockets, a write that progresses is activity
        if (n < want) return;
      }
      this.pendingIndex++;
      this.pendingOff = 0;
    }
    const cb = this.pendingCb;
    this.clearWrite();
    cb();
  }

  private clearWrite(): void {
    this.pendingOne = null;
    this.pendingMany = null;
    this.pendingCount = 0;
    this.pendingCb = null;
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.connecting) {
      this.finalCb = cb;
      return;
    }
    this.finishWrite(cb);
  }

  private finishWrite(cb: (err?: Error | null) => void): void {
    this.finalCb = null;
    if (this.handle.conn !== null) this.handle.shutdown(false, true); // FIN after the queued data
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.connecting = false;
    // close(2) sends a FIN (or a RST when unread data is left, RFC 2525 2.17).
    if (this.resetting) this.handle.reset();
    else this.handle.close();
    const pending = this.pendingCb;
    this.clearWrite();
    if (pending !== null) pending(err ?? nodeError('ERR_STREAM_DESTROYED', 'socket destroyed'));
    cb(err);
    process.nextTick(() => this.emit('close', err !== null));
  }

  // ---- options -------------------------------------------------------------------------------

  /** Closes with a RST (SO_LINGER 0): the peer gets ECONNRESET. */
  resetAndDestroy(): this {
    this.resetting = true;
    return this.destroy();
  }

  setNoDelay(noDelay = true): this {
    this.handle.setNoDelay(noDelay);
    return this;
  }

  setKeepAlive(enable = false, initialDelay = 0): this {
    // Node (libuv uv__tcp_keepalive): idle = the delay in whole seconds, then a probe every
    // second, dead after 10; under a second (or past TCP_KEEPIDLE's limit) the setsockopt
    // fails and the current values (the system defaults on a new socket) stay.
    const idleS = Math.trunc(initialDelay / 1000);
    if (enable && idleS >= 1 && idleS <= MAX_TCP_KEEPIDLE_S) {
      this.handle.setKeepAlive(true, idleS, 1, 10);
    } else this.handle.setKeepAlive(enable);
    return this;
  }

  /**
   * As Node's: 'timeout' after `ms` without reads or writes (0 turns it off and, with `cb`,
   * removes that listener). The timer does not keep the thread alive.
   */
  setTimeout(ms: number, cb?: () => void): this {
    const duration = timerDuration(ms);
    if (cb !== undefined) {
      if (duration === 0) this.removeListener('timeout', cb);
      else this.once('timeout', cb);
    }
    this.timeoutMs = duration;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (duration > 0) this.timer = setTimeout(() => this.emit('timeout'), duration).unref();
    return this;
  }

  get timeout(): number | undefined {
    return this.timeoutMs > 0 ? this.timeoutMs : undefined;
  }

  private touch(): void {
    this.timer?.refresh();
  }

  /** Node's name for touch(), which Node's own modules call on activity. */
  _unrefTimer(): void {
    this.touch();
  }

  /**
   * As Node's: ends the writable side, and destroys once what was written has gone (Node's http
   * client calls it on a connection it will not reuse).
   */
  destroySoon(): void {
    if (this.writable) this.end();
    if (this.writableFinished) this.destroy();
    else this.once('finish', () => this.destroy());
  }

  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
}

// As Node's getTimerDuration: a finite number >= 0 (ERR_INVALID_ARG_TYPE, ERR_OUT_OF_RANGE).
function timerDuration(ms: unknown): number {
  if (typeof ms !== 'number') {
    throw nodeError(
      'ERR_INVALID_ARG_TYPE',
      `The "msecs" argument must be of type number. Received ${describeReceived(ms)}`,
      TypeError,
    );
  }
  if (!(ms >= 0) || !Number.isFinite(ms)) {
    throw nodeError(
      'ERR_OUT_OF_RANGE',
      `The value of "msecs" is out of range. It must be a non-negative finite number. Received ${ms}`,
      RangeError,
    );
  }
  return ms;
}

function abortError(signal: AbortSignal): Error {
  return Object.assign(new Error('The operation was aborted', { cause: signal.reason }), {
    code: 'ABORT_ERR',
    name: 'AbortError',
  });
}

// ---- Server --------------------------------------------------------------------------------

export interface ServerOptions {
  allowHalfOpen?: boolean;
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
  /**
   * The TCP stack to use; default this worker's (workerStack().tcp).
   * @internal A stack built outside an engine worker (tests, perf tools); the public API has no
   * way to build one.
   */
  stack?: TcpStack;
}

export interface ListenOptions {
  port?: number;
  host?: string;
  backlog?: number;
  ipv6Only?: boolean;
  signal?: AbortSignal;
}

export class Server extends EventEmitter {
  listening = false;
  maxConnections = 0;
  private listener: TcpListener | null = null;
  private stack: TcpStack | null;
  private readonly sockets = new Set<Socket>();
  private draining = false;
  private closing = false;
  private family: 'IPv4' | 'IPv6' = 'IPv6';
  private host = '::';

  constructor(
    private readonly options: ServerOptions = {},
    connectionListener?: (socket: Socket) => void,
  ) {
    super();
    this.stack = options.stack ?? null;
    if (connectionListener !== undefined) this.on('connection', connectionListener);
  }

  listen(
    portOrOptions?: number | ListenOptions,
    hostOrCb?: string | number | (() => void),
    backlogOrCb?: number | (() => void),
    cb?: () => void,
  ): this {
    let o: ListenOptions;
    const rest: unknown[] = [hostOrCb, backlogOrCb, cb];
    const callback = rest.find((a) => typeof a === 'function') as (() => void) | undefined;
    if (typeof portOrOptions === 'object') o = { ...portOrOptions };
    else {
      o = { port: portOrOptions ?? 0 };
      if (typeof hostOrCb === 'string') o.host = hostOrCb;
      if (typeof hostOrCb === 'number') o.backlog = hostOrCb;
      else if (typeof backlogOrCb === 'number') o.backlog = backlogOrCb;
    }
    if (callback !== undefined) this.once('listening', callback);
    if (this.listening) throw nodeError('ERR_SERVER_ALREADY_LISTEN', 'listen() was already called');
    this.stack ??= defaultStack();
    const port = o.port ?? 0;
    const host = o.host ?? '::';
    const fam = isIP(host);
    if (fam === 0) {
      throw nodeError(
        'ERR_INVALID_ARG_VALUE',
        `host must be an IP address, got ${host}`,
        TypeError,
      );
    }
    const is4 = fam === 4;
    const r = this.stack.listen({
      port,
      is4,
      addr4: is4 ? parseIpv4Address(host) : 0,
      addr6: is4 ? null : parseIpv6Address(host),
      v6Only: o.ipv6Only ?? false,
      backlog: o.backlog ?? 511,
      reuseAddr: true, // as Node and libuv set SO_REUSEADDR on servers
    });
    if (typeof r === 'number') {
      const err = systemError(errnoCode(r), 'listen', host, port);
      process.nextTick(() => this.emit('error', err));
      return this;
    }
    this.listener = r;
    this.family = is4 ? 'IPv4' : 'IPv6';
    this.host = host;
    this.listening = true;
    r.onAcceptable = this.scheduleDrain;
    if (o.signal !== undefined) {
      if (o.signal.aborted) process.nextTick(() => this.close());
      else o.signal.addEventListener('abort', () => this.close(), { once: true });
    }
    process.nextTick(() => this.emit('listening'));
    return this;
  }

  private readonly scheduleDrain = (): void => {
    if (this.draining) return;
    this.draining = true;
    process.nextTick(this.drain);
  };

  private readonly drain = (): void => {
    this.draining = false;
    const l = this.listener;
    const stack = this.stack;
    if (l === null || stack === null) return;
    let c: TcpConn | null;
    while ((c = l.accept()) !== null) {
      if (this.maxConnections > 0 && this.sockets.size >= this.maxConnections) {
        const info = {
          localAddress: formatLocal(c),
          localPort: c.localPort,
          localFamily: c.is4 ? 'IPv4' : 'IPv6',
          remoteAddress: formatRemote(c),
          remotePort: c.remotePort,
          remoteFamily: c.is4 ? 'IPv4' : 'IPv6',
        };
        c.tcb.abort();
        this.emit('drop', info);
        continue;
      }
      const s = new Socket({ allowHalfOpen: this.options.allowHalfOpen, stack });
      if (this.options.noDelay) s.setNoDelay(true);
      if (this.options.keepAlive) s.setKeepAlive(true, this.options.keepAliveInitialDelay);
      s.attachAccepted(c, stack);
      this.sockets.add(s);
      s.once('close', () => {
        this.sockets.delete(s);
        this.maybeClosed();
      });
      this.emit('connection', s);
    }
  };

  address(): AddressInfo | null {
    if (this.listener === null) return null;
    return { address: this.host, family: this.family, port: this.listener.localPort };
  }

  /** Stops accepting; 'close' follows once every connection has closed. */
  close(cb?: (err?: Error) => void): this {
    if (cb !== undefined) {
      if (!this.listening) {
        process.nextTick(() => cb(nodeError('ERR_SERVER_NOT_RUNNING', 'Server is not running.')));
      } else this.once('close', cb);
    }
    if (this.listener !== null && this.stack !== null) this.stack.closeListener(this.listener);
    this.listener = null;
    if (this.listening) {
      this.listening = false;
      this.closing = true;
      this.maybeClosed();
    }
    return this;
  }

  private maybeClosed(): void {
    if (this.closing && this.sockets.size === 0) {
      this.closing = false;
      process.nextTick(() => this.emit('close'));
    }
  }

  getConnections(cb: (err: Error | null, count: number) => void): this {
    const n = this.sockets.size;
    process.nextTick(() => cb(null, n));
    return this;
  }

  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
}

export function createServer(
  options?: ServerOptions | ((socket: Socket) => void),
  connectionListener?: (socket: Socket) => void,
): Server {
  if (typeof options === 'function') return new Server({}, options);
  return new Server(options ?? {}, connectionListener);
}

export function connect(
  options: ConnectOptions | number,
  host?: string | (() => void),
  cb?: () => void,
): Socket {
  const s = new Socket(typeof options === 'object' ? options : {});
  return s.connect(options, host, cb);
}

export const createConnection = connect;

export { isIP, isIPv4, isIPv6 } from 'node:net';
