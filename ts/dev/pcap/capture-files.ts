// One capture written by several worker threads (Engine.start's `pcap`, perf's --pcap): each
// worker writes the frames of its own device into a file of its own (no lock between threads on
// the packet path). With one worker that file is the capture; with more, their files are merged
// in time order into the one asked for once all are closed, and removed.
import fs from 'node:fs';
import { mergePcapFiles } from './pcap-merge.js';

export class CaptureFiles {
  private finished = false;
  /** Every file handed out, in order: a worker started again after a resize gets a new one. */
  private readonly handedOut: string[] = [];

  private constructor(
    readonly file: string,
    private readonly parts: readonly string[],
  ) {}

  /**
   * Plans the capture of `workers` workers into `file`. Creates (truncates) `file` now, so that
   * a path that cannot be written fails here, in the caller's thread, before anything is set up.
   */
  static open(file: string, workers: number): CaptureFiles {
    fs.closeSync(fs.openSync(file, 'w'));
    const parts =
      workers === 1 ? [file] : Array.from({ length: workers }, (_, w) => `${file}.worker${w}`);
    return new CaptureFiles(file, parts);
  }

  /**
   * The file worker `w` captures into. Asked again for the same worker (one started on a
   * stopped worker's rings after a resize), a file of its own, so the first one's frames stay.
   */
  workerFile(w: number): string {
    const base = this.parts[w];
    const earlier = this.handedOut.filter((f) => f === base || f.startsWith(`${base}.`)).length;
    const file = earlier === 0 || this.parts.length === 1 ? base : `${base}.${earlier}`;
    this.handedOut.push(file);
    return file;
  }

  /**
   * Once the workers have closed their files: merges them into the capture (workers that never
   * started have none) and removes them. Idempotent.
   */
  finish(): void {
    if (this.finished || this.parts.length === 1) return;
    this.finished = true;
    const written = [...new Set(this.handedOut)].filter((p) => fs.existsSync(p));
    try {
      if (written.length > 0) mergePcapFiles(written, this.file);
    } finally {
      for (const p of written) fs.rmSync(p, { force: true });
    }
  }
}
