// Merges pcap files into one with the records in time order, as mergecap does: an engine's
// workers each capture their own packets into a file of their own, and the engine joins them
// when it stops. The merge streams (one read buffer per input), so captures larger than memory
// merge too. It reads what PcapWriter writes: little-endian, micro- or nanosecond stamps.
import fs from 'node:fs';
import {
  FILE_HEADER_BYTES,
  PCAP_MAGIC_MICROS,
  PCAP_MAGIC_NANOS,
  RECORD_HEADER_BYTES,
} from './pcap-format.js';

const CHUNK = 1 << 20;

function badFile(path: string, why: string): Error {
  return Object.assign(new Error(`cannot merge ${path}: ${why}`), { code: 'EINVAL' });
}

/** One input, record by record. */
class RecordReader {
  /** The file header (magic, version, snaplen, link type). */
  readonly header: Buffer;
  /** The current record, header and data; valid until the next call of next(). */
  record: Buffer = Buffer.alloc(0);
  seconds = 0;
  fraction = 0;
  private buf = Buffer.allocUnsafe(CHUNK);
  private start = 0;
  private end = 0;
  private eof = false;

  constructor(
    readonly path: string,
    private readonly fd: number,
  ) {
    if (!this.ensure(FILE_HEADER_BYTES)) throw badFile(path, 'shorter than a pcap file header');
    this.header = Buffer.from(this.buf.subarray(0, FILE_HEADER_BYTES));
    this.start = FILE_HEADER_BYTES;
    const magic = this.header.readUInt32LE(0);
    if (magic !== PCAP_MAGIC_MICROS && magic !== PCAP_MAGIC_NANOS) {
      throw badFile(path, `not a little-endian pcap file (magic 0x${magic.toString(16)})`);
    }
  }

  /**
   * Makes the next record current; false at the end. A record cut short ends the file: a
   * process that died mid-write leaves one, and everything before it is still good.
   */
  next(): boolean {
    if (!this.ensure(RECORD_HEADER_BYTES)) return false;
    const caplen = this.buf.readUInt32LE(this.start + 8);
    const size = RECORD_HEADER_BYTES + caplen;
    if (!this.ensure(size)) return false;
    this.seconds = this.buf.readUInt32LE(this.start);
    this.fraction = this.buf.readUInt32LE(this.start + 4);
    this.record = this.buf.subarray(this.start, this.start + size);
    this.start += size;
    return true;
  }

  /** Whether this reader's current record is older than `other`'s. */
  before(other: RecordReader): boolean {
    return (
      this.seconds < other.seconds ||
      (this.seconds === other.seconds && this.fraction < other.fraction)
    );
  }

  /** At least `n` bytes buffered from `start`, reading more as needed; false at the end. */
  private ensure(n: number): boolean {
    while (this.end - this.start < n && !this.eof) this.readMore(n);
    return this.end - this.start >= n;
  }

  private readMore(n: number): void {
    const left = this.end - this.start;
    const target = n > this.buf.length ? Buffer.allocUnsafe(n) : this.buf;
    this.buf.copy(target, 0, this.start, this.end);
    this.buf = target;
    this.start = 0;
    this.end = left;
    const got = fs.readSync(this.fd, this.buf, this.end, this.buf.length - this.end, null);
    if (got === 0) this.eof = true;
    this.end += got;
  }
}

/** Buffered output: one write(2) per CHUNK. */
class Output {
  private readonly buf = Buffer.allocUnsafe(CHUNK);
  private used = 0;

  constructor(private readonly fd: number) {}

  write(bytes: Buffer): void {
    if (this.used + bytes.length > this.buf.length) this.flush();
    if (bytes.length > this.buf.length) {
      fs.writeSync(this.fd, bytes);
      return;
    }
    bytes.copy(this.buf, this.used);
    this.used += bytes.length;
  }

  flush(): void {
    let done = 0;
    while (done < this.used) done += fs.writeSync(this.fd, this.buf, done, this.used - done);
    this.used = 0;
  }
}

function sameFormat(readers: RecordReader[]): void {
  for (const r of readers.slice(1)) {
    if (!r.header.equals(readers[0].header)) {
      throw badFile(r.path, `its header differs from ${readers[0].path}'s`);
    }
  }
}

/** Oldest first, ties to the earlier input: records of one input keep their order. */
function mergeRecords(readers: RecordReader[], out: Output): number {
  const live = readers.filter((r) => r.next());
  let packets = 0;
  while (live.length > 0) {
    let oldest = 0;
    for (let i = 1; i < live.length; i++) if (live[i].before(live[oldest])) oldest = i;
    out.write(live[oldest].record);
    packets++;
    if (!live[oldest].next()) live.splice(oldest, 1);
  }
  return packets;
}

/**
 * Writes the records of `inputs` (pcap files of the same format, each in time order) to
 * `output` in time order. Returns the number of packets written.
 */
export function mergePcapFiles(inputs: readonly string[], output: string): number {
  if (inputs.length === 0) throw badFile(output, 'no input files');
  const fds: number[] = [];
  try {
    const readers = inputs.map((path) => {
      fds.push(fs.openSync(path, 'r'));
      return new RecordReader(path, fds[fds.length - 1]);
    });
    sameFormat(readers);
    fds.push(fs.openSync(output, 'w'));
    const out = new Output(fds[fds.length - 1]);
    out.write(readers[0].header);
    const packets = mergeRecords(readers, out);
    out.flush();
    return packets;
  } finally {
    for (const fd of fds) fs.closeSync(fd);
  }
}
