// Reads a classic pcap file back (for tests and tools); either byte order, micro- or
// nanosecond timestamps. Loads the whole file: meant for captures of test size.
import fs from 'node:fs';
import {
  FILE_HEADER_BYTES,
  PCAP_MAGIC_MICROS,
  PCAP_MAGIC_NANOS,
  RECORD_HEADER_BYTES,
} from './pcap-format.js';

export interface PcapRecord {
  /** Timestamp in ms since the epoch (sub-microsecond digits kept for nanosecond files). */
  timeMs: number;
  seconds: number;
  /** Microseconds or nanoseconds past `seconds`, as the file stores them. */
  fraction: number;
  /** The packet's length on the wire. */
  length: number;
  /** The captured bytes (at most snaplen). */
  data: Uint8Array;
}

export interface PcapFile {
  nanosecond: boolean;
  littleEndian: boolean;
  versionMajor: number;
  versionMinor: number;
  snaplen: number;
  linktype: number;
  records: PcapRecord[];
}

export function readPcap(path: string): PcapFile {
  const bytes = fs.readFileSync(path);
  if (bytes.length < FILE_HEADER_BYTES) throw badFile(path, 'shorter than a pcap file header');
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let littleEndian = true;
  let magic = v.getUint32(0, true);
  if (magic !== PCAP_MAGIC_MICROS && magic !== PCAP_MAGIC_NANOS) {
    littleEndian = false;
    magic = v.getUint32(0, false);
  }
  if (magic !== PCAP_MAGIC_MICROS && magic !== PCAP_MAGIC_NANOS) {
    throw badFile(path, `unknown magic 0x${v.getUint32(0, true).toString(16)}`);
  }
  const nanosecond = magic === PCAP_MAGIC_NANOS;
  const records: PcapRecord[] = [];
  let at = FILE_HEADER_BYTES;
  while (at < bytes.length) {
    if (at + RECORD_HEADER_BYTES > bytes.length) throw badFile(path, `record at ${at} is cut`);
    const seconds = v.getUint32(at, littleEndian);
    const fraction = v.getUint32(at + 4, littleEndian);
    const caplen = v.getUint32(at + 8, littleEndian);
    const length = v.getUint32(at + 12, littleEndian);
    const start = at + RECORD_HEADER_BYTES;
    if (start + caplen > bytes.length) throw badFile(path, `record at ${at} is cut`);
    records.push({
      timeMs: seconds * 1000 + fraction / (nanosecond ? 1e6 : 1e3),
      seconds,
      fraction,
      length,
      data: new Uint8Array(bytes.buffer, bytes.byteOffset + start, caplen),
    });
    at = start + caplen;
  }
  return {
    nanosecond,
    littleEndian,
    versionMajor: v.getUint16(4, littleEndian),
    versionMinor: v.getUint16(6, littleEndian),
    snaplen: v.getUint32(16, littleEndian),
    linktype: v.getUint32(20, littleEndian),
    records,
  };
}

function badFile(path: string, why: string): Error {
  return Object.assign(new Error(`${path} is not a pcap file: ${why}`), { code: 'EINVAL' });
}
