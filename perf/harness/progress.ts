// Live progress while a perf run goes: one line per second on stderr, so stdout keeps only the
// table and the JSON line.

export class Progress {
  private timer?: ReturnType<typeof setInterval>;
  private last = 0;
  private lastAt = performance.now();

  /** Polls `sample` every second and prints the rate since the previous poll. */
  start(label: string, sample: () => Promise<number>): void {
    this.timer = setInterval(() => {
      sample().then(
        (count) => {
          const now = performance.now();
          const rate = ((count - this.last) / (now - this.lastAt)) * 1000;
          this.last = count;
          this.lastAt = now;
          process.stderr.write(`  ${label}: ${count} packets, ${(rate / 1e6).toFixed(3)} Mpps\n`);
        },
        () => undefined,
      );
    }, 1000);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
