// Writes packets to a classic pcap file. Records are collected in a preallocated buffer and go
// to the file with one fs.writeSync when it fills up, on flush() and on close(), so capturing
// costs a copy per packet and no system call or allocation on the packet path.
import fs from 'node:fs';
import { realClock, type Clock } from '../memory/clock.js';
import {
  FILE_HEADER_BYTES,
  LINKTYPE_ETHERNET,
  MAX_SNAPLEN,
  PCAP_MAGIC_MICROS,
  PCAP_MAGIC_NANOS,
  PCAP_VERSION_MAJOR,
  PCAP_VERSION_MINOR,
  RECORD_HEADER_BYTES,
} from './pcap-format.js';

export interface PcapWriterOptions {
  /** Bytes kept of each packet (longer ones are cut, their original length recorded); 65535. */
  snaplen?: number;
  /** Nanosecond timestamps instead of microseconds; default false. */
  nanosecond?: boolean;
  /** Bytes buffered before a write to the file; default 1 MiB (at least one whole record). */
  bufferSize?: number;
  /** Where timestamps come from (ms); default this thread's performance.now(). */
  clock?: Clock;
  /**
   * The Unix time (ms) at which `clock` reads 0: timestamps are epochMs + clock.now(). Default
   * performance.timeOrigin with the default clock, else 0 (a VirtualClock's time counts from
   * 1970). Kept apart from the clock's reading so nanosecond stamps keep their precision (a
   * double holding ms since 1970 resolves only about 0.24 us).
   */
  epochMs?: number;
}

export class PcapWriter {
  readonly path: string;
  readonly snaplen: number;
  readonly nanosecond: boolean;
  /** Packets written so far. */
  packets = 0;
  private readonly clock: Clock;
  /** Whole seconds of epochMs, and the ms left over (added to the clock before splitting). */
  private readonly epochSeconds: number;
  private readonly epochRestMs: number;
  private readonly buffer: Buffer;
  private readonly view: DataView;
  private used = 0;
  /** Start of the last record while it is still in the buffer, else -1 (for retract()). */
  private lastRecord = -1;
  private fd: number;
  /** The packet source last copied from and a Buffer over its memory (made once per source). */
  private source: Uint8Array | null = null;
  private sourceBuffer: Buffer = Buffer.alloc(0);

  constructor(path: string, options: PcapWriterOptions = {}) {
    const snaplen = options.snaplen ?? 65535;
    if (!Number.isInteger(snaplen) || snaplen < 1 || snaplen > MAX_SNAPLEN) {
      throw Object.assign(new Error(`snaplen ${snaplen} must be an integer in 1..${MAX_SNAPLEN}`), {
        code: 'EINVAL',
      });
    }
    this.path = path;
    this.snaplen = snaplen;
    this.nanosecond = options.nanosecond ?? false;
    this.clock = options.clock ?? realClock;
    const epochMs = options.epochMs ?? (options.clock ? 0 : performance.timeOrigin);
    this.epochSeconds = Math.floor(epochMs / 1000);
    this.epochRestMs = epochMs - this.epochSeconds * 1000;
    const size = Math.max(
      options.bufferSize ?? 1 << 20,
      FILE_HEADER_BYTES + RECORD_HEADER_BYTES + snaplen,
    );
    this.buffer = Buffer.allocUnsafe(size);
    this.view = new DataView(this.buffer.buffer, this.buffer.byteOffset, this.buffer.byteLength);
    this.fd = fs.openSync(path, 'w');
    this.writeFileHeader();
  }

  /**
   * Records the `len` bytes at `offset` of `bytes` as one packet, stamped `timeMs` on the
   * writer's clock (default now).
   */
  write(bytes: Uint8Array, offset: number, len: number, timeMs = this.clock.now()): void {
    if (this.fd < 0) throw closedError(this.path);
    const caplen = len < this.snaplen ? len : this.snaplen;
    if (this.used + RECORD_HEADER_BYTES + caplen > this.buffer.length) this.flush();
    const at = this.used;
    const ms = this.epochRestMs + timeMs;
    const seconds = Math.floor(ms / 1000);
    const scale = this.nanosecond ? 1e6 : 1e3;
    const limit = this.nanosecond ? 999_999_999 : 999_999;
    let fraction = Math.round((ms - seconds * 1000) * scale);
    if (fraction > limit) fraction = limit;
    const v = this.view;
    v.setUint32(at, (this.epochSeconds + seconds) >>> 0, true);
    v.setUint32(at + 4, fraction, true);
    v.setUint32(at + 8, caplen, true);
    v.setUint32(at + 12, len, true);
    this.sourceOf(bytes).copy(this.buffer, at + RECORD_HEADER_BYTES, offset, offset + caplen);
    this.used = at + RECORD_HEADER_BYTES + caplen;
    this.lastRecord = at;
    this.packets++;
  }

  /** Takes back the packet just written (a send that did not happen); false if already on disk. */
  retract(): boolean {
    if (this.lastRecord < 0) return false;
    this.used = this.lastRecord;
    this.lastRecord = -1;
    this.packets--;
    return true;
  }

  /** Writes what is buffered to the file. */
  flush(): void {
    if (this.fd < 0 || this.used === 0) return;
    let done = 0;
    while (done < this.used) done += fs.writeSync(this.fd, this.buffer, done, this.used - done);
    this.used = 0;
    this.lastRecord = -1;
  }

  /** Flushes and closes the file. Safe to call twice. */
  close(): void {
    if (this.fd < 0) return;
    this.flush();
    fs.closeSync(this.fd);
    this.fd = -1;
  }

  private writeFileHeader(): void {
    const v = this.view;
    v.setUint32(0, this.nanosecond ? PCAP_MAGIC_NANOS : PCAP_MAGIC_MICROS, true);
    v.setUint16(4, PCAP_VERSION_MAJOR, true);
    v.setUint16(6, PCAP_VERSION_MINOR, true);
    v.setInt32(8, 0, true); // thiszone: timestamps are UTC
    v.setUint32(12, 0, true); // sigfigs: always 0
    v.setUint32(16, this.snaplen, true);
    v.setUint32(20, LINKTYPE_ETHERNET, true);
    this.used = FILE_HEADER_BYTES;
  }

  private sourceOf(bytes: Uint8Array): Buffer {
    if (bytes !== this.source) {
      this.source = bytes;
      this.sourceBuffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    return this.sourceBuffer;
  }
}

function closedError(path: string): Error {
  return Object.assign(new Error(`pcap file ${path} is closed`), { code: 'EBADF' });
}
