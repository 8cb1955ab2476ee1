// What happens around the engine's process: kill -9 leaves no XDP program behind, and running
// without the needed privileges fails with an error that names what is missing.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestBed } from '../../ts/testbed/testbed.js';
import { nodeXdp } from '../../ts/dev/xdp/native.js';

/** How `ip link show` marks an attached XDP program (not the bed's "xdpnet-N" namespace name). */
const XDP_ATTACHED = /\sxdp(generic|drv|offload)?\s|prog\/xdp/;

const execFileP = promisify(execFile);

const fixture = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '../fixtures/hold-binding.js',
);

/** Runs the fixture (optionally under another command prefix) and resolves with its first line. */
function startHolder(prefix: string[], args: string[]) {
  const argv = [...prefix, process.execPath, fixture, ...args];
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr = { text: '' };
  child.stderr.on('data', (d: Buffer) => (stderr.text += d.toString()));
  const firstLine = new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`holder said nothing: ${out}`)), 20000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(out.slice(0, nl));
      }
    });
    child.on('exit', () => {
      clearTimeout(timer);
      resolve(out.trim());
    });
  });
  return { child, firstLine, stderr };
}

async function linkShow(ifname: string): Promise<string> {
  const child = spawn('ip', ['link', 'show', 'dev', ifname], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise((r) => child.on('exit', r));
  return out;
}

describe('engine process lifetime and privileges', function () {
  let bed: TestBed;

  beforeEach(async function () {
    bed = await TestBed.up();
  });

  afterEach(async function () {
    await bed?.down();
  });

  it('kill -9 of a process holding a socket leaves no XDP program on the interface', async function () {
    const { child, firstLine, stderr } = startHolder([], [bed.engineIf, bed.engineIpv4]);
    try {
      assert.equal(await firstLine, 'ready');
      assert.notEqual(nodeXdp().attachedXdpProgram(bed.engineIf), null);
      // What to look at if `ip` disagrees: whether the holder still lives, what it printed, and
      // what the kernel reports after the `ip` call.
      const shown = await linkShow(bed.engineIf);
      const holder = child.exitCode === null && child.signalCode === null ? 'alive' : 'gone';
      assert.match(
        shown,
        XDP_ATTACHED,
        `ip link show: ${shown}; holder ${holder}, stderr ${JSON.stringify(stderr.text)}; ` +
          `attached now: ${JSON.stringify(nodeXdp().attachedXdpProgram(bed.engineIf))}`,
      );
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) =>
        child.exitCode !== null || child.signalCode !== null ? r(null) : child.on('exit', r),
      );
    }
    // The bpf_link goes with the last fd; the kernel releases it asynchronously, so poll briefly.
    const deadline = Date.now() + 5000;
    while (nodeXdp().attachedXdpProgram(bed.engineIf) !== null && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(nodeXdp().attachedXdpProgram(bed.engineIf), null);
    assert.doesNotMatch(await linkShow(bed.engineIf), XDP_ATTACHED);
  });

  it('an engine the app keeps no reference to keeps running through garbage collection', async function () {
    this.timeout(30000);
    const script = path.join(path.dirname(fixture), 'unreferenced-engine.js');
    const { stdout } = await execFileP(
      process.execPath,
      ['--expose-gc', script, bed.engineIf, `${bed.engineIpv4}/${bed.ipv4Prefix}`],
      { timeout: 25000 },
    );
    assert.deepEqual(JSON.parse(stdout.trim()), { attached: true });
    // Its process exited: the bpf_link went with its last fd.
    const deadline = Date.now() + 5000;
    while (nodeXdp().attachedXdpProgram(bed.engineIf) !== null && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(nodeXdp().attachedXdpProgram(bed.engineIf), null);
  });

  it('fails with a clear error naming the missing privileges when not root', async function () {
    const setpriv = [
      'setpriv',
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      '--inh-caps=-all',
    ];
    const { firstLine } = startHolder(setpriv, [bed.engineIf, bed.engineIpv4]);
    const line = await firstLine;
    const err = JSON.parse(line) as { code: string; message: string };
    assert.equal(err.code, 'EPERM');
    assert.match(err.message, /CAP_(BPF|NET_ADMIN|NET_RAW)|root/);
    assert.equal(nodeXdp().attachedXdpProgram(bed.engineIf), null);
  });
});
