// The pieces every perf mode on the test bed needs: the engine on the bed's interface (binding +
// port workers), a kernel-stack baseline process on the engine's side of the bed, and CPU time.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { XdpBinding, type XdpBindingOptions } from '../../ts/dev/xdp/xdp-binding.js';
import { PortWorkers } from '../../ts/worker/port-workers.js';
import type { FrameAudit } from '../../ts/dev/xdp/xdp-device.js';
import { CaptureFiles } from '../../ts/dev/pcap/capture-files.js';

export interface Engine {
  binding: XdpBinding;
  workers: PortWorkers;
}

/**
 * Opens the engine on an interface, runs `fn`, audits frames and always closes everything. With
 * `pcap`, the port workers' frames are captured into that file (merged when there are several).
 */
export async function withEngine<T>(
  opts: XdpBindingOptions & { pcap?: string },
  fn: (engine: Engine) => Promise<T>,
): Promise<{ value: T; audits: FrameAudit[] }> {
  const binding = XdpBinding.open(opts);
  let workers: PortWorkers | undefined;
  let capture: CaptureFiles | undefined;
  try {
    if (opts.pcap !== undefined) capture = CaptureFiles.open(opts.pcap, binding.sockets.length);
    workers = await PortWorkers.start(binding, 64, capture);
    const value = await fn({ binding, workers });
    const audits = await workers.audit();
    return { value, audits };
  } finally {
    await workers?.close();
    binding.close();
    capture?.finish();
  }
}

/** CPU seconds this process (main thread and workers) used while `fn` ran. */
export async function measureCpu<T>(
  fn: () => Promise<T>,
): Promise<{ value: T; cpuSeconds: number }> {
  const before = process.cpuUsage();
  const value = await fn();
  const used = process.cpuUsage(before);
  return { value, cpuSeconds: (used.user + used.system) / 1e6 };
}

const baselineDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '../baselines');

/**
 * A baseline script (perf/baselines/<name>.js) in a child process; resolves once it says ready.
 * Lines `progress <packets>` it prints while it runs are its progress (progress()), not output.
 */
export class BaselineProcess {
  private output = '';
  private partial = '';
  private packets = 0;
  private readonly exited: Promise<number>;

  private constructor(private readonly child: ChildProcess) {
    child.stdout?.on('data', (d: Buffer) => this.take(d.toString()));
    child.stderr?.on('data', (d: Buffer) => process.stderr.write(d));
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
  }

  /** The packets the script last said it had handled (0 before it says). */
  progress(): number {
    return this.packets;
  }

  private take(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      const m = /^progress (\d+)$/.exec(line);
      if (m) this.packets = Number(m[1]);
      else this.output += `${line}\n`;
    }
  }

  static async start(name: string, args: string[]): Promise<BaselineProcess> {
    const child = spawn(process.execPath, [path.join(baselineDir, `${name}.js`), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc = new BaselineProcess(child);
    const deadline = Date.now() + 10000;
    while (!proc.output.includes('ready\n')) {
      if (Date.now() > deadline || child.exitCode !== null) {
        child.kill('SIGKILL');
        throw Object.assign(new Error(`baseline ${name} did not start: ${proc.output}`), {
          code: 'EBASELINE',
        });
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return proc;
  }

  /** CPU seconds the baseline process has used so far (from /proc, so readable while it runs). */
  cpuSeconds(): number {
    const stat = fs.readFileSync(`/proc/${this.child.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  }

  /** Waits for the script to finish (killing it after `timeoutMs`) and parses its JSON line. */
  async result<T>(timeoutMs: number): Promise<T> {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    const line = (this.output + this.partial).trim().split('\n').pop() ?? '';
    if (code !== 0 || !line.startsWith('{')) {
      throw Object.assign(new Error(`baseline exited ${code}: ${this.output}`), {
        code: 'EBASELINE',
      });
    }
    return JSON.parse(line) as T;
  }
}
