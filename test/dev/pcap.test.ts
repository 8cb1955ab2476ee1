import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FrameDevice } from '../../ts/dev/frame-device.js';
import { VirtualClock } from '../../ts/dev/memory/clock.js';
import { PcapTap } from '../../ts/dev/pcap/pcap-tap.js';
import { PcapWriter } from '../../ts/dev/pcap/pcap-writer.js';
import { readPcap } from '../../ts/dev/pcap/pcap-reader.js';
import { drain, frameLength, sendFrame, writeFrame } from './frames.js';
import { PairFixture } from './pair-fixture.js';

/** Runs tshark on a capture and returns one array of fields per packet. */
function tshark(file: string, fields: string[], extra: string[] = []): string[][] {
  const args = ['-r', file, '-T', 'fields', ...fields.flatMap((f) => ['-e', f]), ...extra];
  const r = spawnSync('tshark', args, { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, `tshark failed: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => line.split('\t'));
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

describe('pcap: writer and tap', () => {
  const fixture = new PairFixture();
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'h7-pcap-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  afterEach(() => fixture.settleAndAudit());

  it('a tap records every frame sent and received; tshark reads them all', () => {
    const n = 500;
    const { a, b } = fixture.open({ framesPerPort: 1024 });
    const txFile = path.join(dir, 'a-tx.pcap');
    const rxFile = path.join(dir, 'b-rx.pcap');
    // A small buffer so the writer flushes to the file many times along the way.
    const tapA = new PcapTap(a, new PcapWriter(txFile, { bufferSize: 8192 }), { rx: false });
    const tapB = new PcapTap(b, new PcapWriter(rxFile), { tx: false });
    for (let i = 0; i < n; i++) {
      sendFrame(tapA, 0, i);
      if (i % 50 === 49) {
        tapA.flush();
        drain(tapB);
        tapA.reap();
      }
    }
    tapA.writer.close();
    tapB.writer.close();
    const expect = new Uint8Array(2048);
    for (const file of [txFile, rxFile]) {
      const rows = tshark(file, [
        'frame.number',
        'frame.len',
        'frame.cap_len',
        'eth.type',
        'data.data',
      ]);
      assert.equal(rows.length, n, `${file}: tshark counts every packet`);
      rows.forEach(([num, len, caplen, type, data], i) => {
        const l = writeFrame(expect, 0, 0, i);
        assert.equal(Number(num), i + 1);
        assert.equal(Number(len), l);
        assert.equal(Number(caplen), l);
        assert.equal(type, '0x88b5');
        assert.equal(data, hex(expect.subarray(14, l)), `packet ${i} bytes`);
      });
    }
    // Default stamps are wall-clock microseconds.
    const stamps = tshark(txFile, ['frame.time_epoch']).map(([t]) => Number(t) * 1000);
    assert.ok(
      stamps.every((t) => Math.abs(t - Date.now()) < 60_000),
      `stamp ${stamps[0]}`,
    );
    assert.equal(readPcap(txFile).nanosecond, false);
    const wc = spawnSync('sh', ['-c', `tshark -r ${txFile} -T fields -e frame.number | wc -l`], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(wc.stdout.trim(), String(n));
  });

  it('stamps virtual time in nanoseconds and cuts packets at snaplen', () => {
    const clock = VirtualClock.create();
    const file = path.join(dir, 'nanos.pcap');
    const epochMs = 1_700_000_000_000;
    const writer = new PcapWriter(file, { nanosecond: true, snaplen: 128, clock, epochMs });
    const frame = new Uint8Array(2048);
    const lengths: number[] = [];
    for (let i = 0; i < 20; i++) {
      lengths.push(writeFrame(frame, 0, 1, i));
      writer.write(frame, 0, lengths[i]);
      clock.advance(0.000123 + i); // 123 ns and whole ms
    }
    writer.close();
    const rows = tshark(file, ['frame.time_epoch', 'frame.len', 'frame.cap_len']);
    assert.equal(rows.length, 20);
    let t = 0;
    rows.forEach(([epoch, len, caplen], i) => {
      const [sec, frac] = epoch.split('.');
      const ns = BigInt(sec) * 1_000_000_000n + BigInt(frac.padEnd(9, '0').slice(0, 9));
      const expectNs = BigInt(epochMs) * 1_000_000n + BigInt(Math.round(t * 1e6));
      assert.equal(ns, expectNs, `packet ${i}`);
      assert.equal(Number(len), lengths[i]);
      assert.equal(Number(caplen), Math.min(lengths[i], 128));
      t += 0.000123 + i;
    });
    const back = readPcap(file);
    assert.equal(back.nanosecond, true);
    assert.equal(back.snaplen, 128);
    assert.equal(back.linktype, 1);
    assert.deepEqual(
      back.records.map((r) => r.length),
      lengths,
    );
    assert.equal(hex(back.records[3].data), hex(writeFrameBytes(1, 3).subarray(0, 128)));
  });

  it('records sends as the stack made them, before a memory port’s faults', () => {
    const clock = VirtualClock.create();
    const { a, b } = fixture.open({
      framesPerPort: 512,
      clock,
      faults: { lossRate: 0.3, corruptRate: 0.3 },
    });
    const txFile = path.join(dir, 'faulted-tx.pcap');
    const rxFile = path.join(dir, 'faulted-rx.pcap');
    const tapA = new PcapTap(a, new PcapWriter(txFile, { clock }));
    const tapB = new PcapTap(b, new PcapWriter(rxFile, { clock }));
    for (let i = 0; i < 300; i++) sendFrame(tapA, 0, i);
    tapA.flush();
    const delivered = drain(tapB);
    tapA.writer.close();
    tapB.writer.close();
    const tx = readPcap(txFile).records;
    assert.equal(tx.length, 300);
    tx.forEach((r, i) => assert.equal(hex(r.data), hex(writeFrameBytes(0, i)), `sent ${i}`));
    assert.equal(tshark(rxFile, ['frame.number']).length, delivered);
    assert.equal(delivered, 300 - a.counters.lost);
  });

  it('takes back the record of a send the device refused', () => {
    const file = path.join(dir, 'refused.pcap');
    const refusing = new RefusingDevice();
    const tap = new PcapTap(refusing, new PcapWriter(file));
    writeFrame(refusing.bytes, 0, 0, 1);
    assert.equal(tap.send(0, frameLength(0, 1)), true);
    refusing.full = true;
    assert.equal(tap.send(0, frameLength(0, 1)), false);
    assert.equal(tap.writer.packets, 1);
    tap.writer.close();
    assert.equal(tshark(file, ['frame.number']).length, 1);
  });
});

function writeFrameBytes(side: number, seq: number): Uint8Array {
  const buf = new Uint8Array(2048);
  return buf.subarray(0, writeFrame(buf, 0, side, seq));
}

/** A FrameDevice whose send() fails while `full` (as a full AF_XDP TX ring does). */
class RefusingDevice implements FrameDevice {
  readonly bytes = new Uint8Array(4096);
  readonly view = new DataView(this.bytes.buffer);
  readonly umemOffset = 0;
  readonly frameSize = 2048;
  readonly txDataOffset = 0;
  readonly batch = 1;
  readonly rxDesc = new Uint32Array(2);
  full = false;
  receive(): number {
    return 0;
  }
  release(): void {}
  allocate(): number {
    return 0;
  }
  send(): boolean {
    return !this.full;
  }
  flush(): number {
    return 0;
  }
  reap(): number {
    return 0;
  }
  refill(): number {
    return 0;
  }
}
