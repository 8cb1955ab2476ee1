// A capture written by several workers (CaptureFiles): a worker started again on the same
// number (after Engine.resize stopped it) writes a file of its own, and the merged capture keeps
// the frames of both.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CaptureFiles } from '../../ts/dev/pcap/capture-files.js';
import { PcapWriter } from '../../ts/dev/pcap/pcap-writer.js';
import { readPcap } from '../../ts/dev/pcap/pcap-reader.js';

describe('pcap: a capture across worker restarts', function () {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capture-files-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('gives a restarted worker a new file and merges every file in time order', () => {
    const file = path.join(dir, 'all.pcap');
    const capture = CaptureFiles.open(file, 2);
    const frame = (marker: number): Uint8Array => new Uint8Array(60).fill(marker);
    const write = (part: string, marker: number, timeMs: number): void => {
      const w = new PcapWriter(part);
      w.write(frame(marker), 0, 60, timeMs);
      w.close();
    };
    const first = capture.workerFile(1);
    write(capture.workerFile(0), 0, 1000);
    write(first, 1, 2000);
    const again = capture.workerFile(1);
    assert.notEqual(again, first);
    write(again, 2, 3000);
    capture.finish();
    const records = readPcap(file).records;
    assert.deepEqual(
      records.map((r) => r.data[0]),
      [0, 1, 2],
    );
    assert.deepEqual(fs.readdirSync(dir), ['all.pcap'], 'the per-worker files are removed');
  });
});
