// Merging per-worker captures into one (ts/dev/pcap/pcap-merge.ts): records in time order, none
// lost, across read buffers; a record cut short ends its file; tshark reads the result.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { VirtualClock } from '../../ts/dev/memory/clock.js';
import { PcapWriter } from '../../ts/dev/pcap/pcap-writer.js';
import { readPcap } from '../../ts/dev/pcap/pcap-reader.js';
import { mergePcapFiles } from '../../ts/dev/pcap/pcap-merge.js';

/** A capture of `count` packets of `len` bytes, the i-th at `startMs + i * stepMs`, tagged. */
function capture(
  file: string,
  tag: number,
  count: number,
  len: number,
  startMs: number,
  stepMs = 2,
) {
  const clock = VirtualClock.create(startMs);
  const writer = new PcapWriter(file, { clock, nanosecond: true, bufferSize: 64 * 1024 });
  const frame = new Uint8Array(len);
  for (let i = 0; i < count; i++) {
    frame[0] = tag;
    new DataView(frame.buffer).setUint32(1, i);
    clock.advanceTo(startMs + i * stepMs);
    writer.write(frame, 0, len);
  }
  writer.close();
}

function tsharkCount(file: string): number {
  const r = spawnSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.number'], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean).length;
}

describe('pcap: merging captures', function () {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xdpnet-pcap-merge-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('interleaves three captures by time, every record once, in order (3 MB, several reads)', function () {
    const parts = [0, 1, 2].map((w) => path.join(dir, `part${w}.pcap`));
    // Worker w's i-th packet at 1000 + w + 3i ms: the merge must alternate 0, 1, 2, 0, ...
    parts.forEach((file, w) => capture(file, w, 700, 1500, 1000 + w, 3));
    const merged = path.join(dir, 'merged.pcap');
    assert.equal(mergePcapFiles(parts, merged), 2100);
    const { records, nanosecond } = readPcap(merged);
    assert.equal(nanosecond, true);
    assert.equal(records.length, 2100);
    records.forEach((r, k) => {
      assert.equal(r.data[0], k % 3, `record ${k} comes from part ${k % 3}`);
      assert.equal(new DataView(r.data.buffer, r.data.byteOffset).getUint32(1), Math.floor(k / 3));
    });
    assert.equal(tsharkCount(merged), 2100);
  });

  it('keeps what is before a record cut short, and refuses a file that is not a capture', function () {
    const whole = path.join(dir, 'whole.pcap');
    const cut = path.join(dir, 'cut.pcap');
    capture(whole, 0, 10, 100, 0);
    capture(cut, 1, 10, 100, 1);
    fs.truncateSync(cut, fs.statSync(cut).size - 30); // the last record loses its tail
    const merged = path.join(dir, 'merged-cut.pcap');
    assert.equal(mergePcapFiles([whole, cut], merged), 19);
    assert.equal(tsharkCount(merged), 19);
    const junk = path.join(dir, 'junk.pcap');
    fs.writeFileSync(junk, Buffer.alloc(40, 7));
    assert.throws(() => mergePcapFiles([whole, junk], merged), { code: 'EINVAL' });
  });
});
