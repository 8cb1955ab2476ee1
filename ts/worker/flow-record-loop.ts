// flowrecord: which flows reached this worker, and which packets. For each UDP datagram to
// `port` carrying xdpnet-peer's pattern, count it under its source port and its sequence
// number, so the main thread can check that every flow lands on exactly one worker and every
// packet on exactly one worker exactly once.
import type { FrameDevice } from '../dev/frame-device.js';
import type { PacketLoop } from './loops/packet-loop.js';
import { checkPattern } from './loops/pattern.js';
import { UdpFrameParser } from './loops/udp-frame.js';
import type { FlowRecords, RssLoopSpec } from './rss-loop-spec.js';
import { RxDropLoop } from './loops/rxdrop.js';

export class FlowRecordLoop implements PacketLoop {
  readonly records: FlowRecords;
  private recorded = 0;
  private notUdp = 0;
  private corrupt = 0;
  private outOfRange = 0;
  private readonly parser = new UdpFrameParser();

  constructor(
    private readonly device: FrameDevice,
    private readonly port: number,
    maxSeq: number,
  ) {
    this.records = { ports: new Uint32Array(65536), seqs: new Uint8Array(maxSeq) };
  }

  step(): number {
    const dev = this.device;
    const n = dev.receive();
    for (let i = 0; i < n; i++) {
      const addr = dev.rxDesc[2 * i];
      this.record(dev.umemOffset + addr, dev.rxDesc[2 * i + 1]);
      dev.release(addr);
    }
    dev.refill();
    return n;
  }

  private record(off: number, len: number): void {
    const bytes = this.device.bytes;
    const udp = this.parser.udp;
    if (!this.parser.parse(bytes, off, len) || udp.dstPort !== this.port) {
      this.notUdp++;
      return;
    }
    const seq = checkPattern(bytes, udp.payloadOff, udp.payloadLen);
    if (seq < 0) {
      this.corrupt++;
      return;
    }
    const seqs = this.records.seqs;
    if (seq >= seqs.length) this.outOfRange++;
    else if (seqs[seq] < 255) seqs[seq]++;
    this.records.ports[udp.srcPort]++;
    this.recorded++;
  }

  done(): boolean {
    return false;
  }

  result(): Record<string, number> {
    return {
      recorded: this.recorded,
      notUdp: this.notUdp,
      corrupt: this.corrupt,
      outOfRange: this.outOfRange,
    };
  }
}

/** The loop an RSS or steered worker runs for `spec`. */
export function makeFlowLoop(dev: FrameDevice, spec: RssLoopSpec): PacketLoop {
  switch (spec.mode) {
    case 'rxdrop':
      return new RxDropLoop(dev);
    case 'flowrecord':
      return new FlowRecordLoop(dev, spec.port, spec.maxSeq);
  }
}
