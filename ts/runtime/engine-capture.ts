// `pcap` of Engine.start: a capture of every frame the engine's stacks receive and send. Each
// worker writes the frames of its own stack into a file of its own (no lock between threads on
// the packet path). With one worker that file is the capture; with more, the engine merges the
// workers' files in time order into the one asked for when it stops, and removes them.
import fs from 'node:fs';
import { mergePcapFiles } from '../dev/pcap/pcap-merge.js';

export class EngineCapture {
  private finished = false;

  private constructor(
    readonly file: string,
    private readonly parts: readonly string[],
  ) {}

  /**
   * Plans the capture of `workers` workers into `file`. Creates (truncates) `file` now, so that
   * a path that cannot be written fails Engine.start before anything is set up, in its error.
   */
  static open(file: string, workers: number): EngineCapture {
    fs.closeSync(fs.openSync(file, 'w'));
    const parts =
      workers === 1 ? [file] : Array.from({ length: workers }, (_, w) => `${file}.worker${w}`);
    return new EngineCapture(file, parts);
  }

  /** The file worker `w` captures into. */
  workerFile(w: number): string {
    return this.parts[w];
  }

  /**
   * Once the workers have closed their files: merges them into the capture (workers that never
   * started have none) and removes them. Idempotent.
   */
  finish(): void {
    if (this.finished || this.parts.length === 1) return;
    this.finished = true;
    const written = this.parts.filter((p) => fs.existsSync(p));
    try {
      if (written.length > 0) mergePcapFiles(written, this.file);
    } finally {
      for (const p of written) fs.rmSync(p, { force: true });
    }
  }
}
