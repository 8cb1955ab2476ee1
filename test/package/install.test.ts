// The package as a user gets it: `npm run pack:all` writes the main and platform tarballs, npm
// installs both into a fresh project with no cargo on PATH (nothing may need building), and the
// installed package is used the ways the README says: imported as ESM and with require, an app
// on the engine that a kernel peer talks to (UDP echo, IPv4 and IPv6, the client in the test bed's
// peer namespace), and a perf mode through the installed `xdpnet` command. The addon and the
// tools can only come from the platform package: the installed main package has no build tree.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { packageRoot } from '../../ts/dev/xdp/artifacts.js';
import { TestBed } from '../../ts/testbed/testbed.js';
import { PY_UDP_ECHO_CLIENT } from '../support/py-udp-echo.js';

const PLATFORM_PACKAGE = 'xdpnet-linux-x64-gnu';

/**
 * The environment of everything this test runs: no directory with cargo (or rustc) on PATH, no
 * Rust toolchain variables, and none of the npm_* variables `npm test` sets for its scripts (a
 * nested npm would take them as its own configuration).
 */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(npm_|CARGO|RUSTUP|RUSTC)/i.test(k)) continue;
    env[k] = v;
  }
  env.PATH = (process.env.PATH ?? '')
    .split(':')
    .filter(
      (dir) =>
        dir !== '' &&
        !dir.includes('.cargo') &&
        !fs.existsSync(path.join(dir, 'cargo')) &&
        !fs.existsSync(path.join(dir, 'rustc')),
    )
    .join(':');
  return env;
}

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs argv in cwd with env; resolves with its output whatever the exit. At timeoutMs it gets
 * SIGINT (a perf run then stops and removes the bed it made), 10 s later SIGKILL.
 */
function run(argv: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number) {
  return new Promise<Result>((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    let kill: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      child.kill('SIGINT');
      kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(kill);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function must(r: Result, what: string): Result {
  assert.equal(r.code, 0, `${what}: exit ${r.code ?? r.signal}\n${r.stderr}\n${r.stdout}`);
  return r;
}

/** Every file under dir, relative to it. */
function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

// The app each engine worker loads: xdpnet's dgram, imported as ESM from the installed package
// (as examples/udp-echo.ts, which imports the package's own source instead).
const ECHO_APP = `import { dgram } from 'xdpnet';
for (const type of ['udp4', 'udp6']) {
  const socket = dgram.createSocket({ type, ipv6Only: type === 'udp6' });
  socket.on('message', (msg, rinfo) => socket.send(msg, rinfo.port, rinfo.address));
  socket.bind(7);
}
`;

// The user's program, CommonJS: require('xdpnet'), the engine on the bed's interface with the
// echo app; says "ready" and runs until a signal stops it (the engine's own SIGTERM handling).
const RUNNER = `const { Engine } = require('xdpnet');
const [ifname, ipv4, ipv6] = process.argv.slice(2);
Engine.start({ ifname, ipv4: [ipv4], ipv6: [ipv6], app: require.resolve('./echo-app.mjs'), workers: 1 })
  .then(() => console.log('ready'))
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
`;

// Both ways in: the ESM namespace and require() must give the same exports.
const ESM_CHECK = `import * as xdpnet from 'xdpnet';
console.log(JSON.stringify(Object.keys(xdpnet).sort()));
`;
const CJS_CHECK = `const xdpnet = require('xdpnet');
console.log(JSON.stringify(Object.keys(xdpnet).sort()));
`;

describe('package: the packed tarballs installed into a fresh project without cargo', function () {
  // Packing, an npm install, two engine runs and a perf run with its baseline.
  this.timeout(10 * 60_000);

  const env = userEnv();
  let work: string;
  let project: string;
  let installed: string;
  let bed: TestBed | undefined;
  let runner: ChildProcess | undefined;

  before(async function () {
    const which = spawnSync('sh', ['-c', 'command -v cargo'], { env, encoding: 'utf8' });
    assert.notEqual(which.status, 0, `cargo is still on PATH: ${which.stdout}`);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'xdpnet-install-'));
    const tarballs = path.join(work, 'tarballs');
    // --no-build: the tree is built (mocha runs its dist/), and rebuilding dist/ under a running
    // test suite would rewrite the files its workers load.
    const packed = must(
      await run(
        ['npm', 'run', '--silent', 'pack:all', '--', tarballs, '--no-build'],
        packageRoot,
        env,
        5 * 60_000,
      ),
      'npm run pack:all',
    );
    const files = packed.stdout.trim().split('\n');
    assert.deepEqual(
      files.map((f) => path.basename(f).replace(/-[\d.]+\.tgz$/, '')),
      ['xdpnet', PLATFORM_PACKAGE],
      packed.stdout,
    );
    for (const file of files) assert.ok(fs.existsSync(file), file);

    project = path.join(work, 'project');
    fs.mkdirSync(project);
    const manifest = { name: 'xdpnet-user', version: '1.0.0', private: true };
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify(manifest));
    // The dependencies are in npm's cache (the repository's own install put them there).
    must(
      await run(
        ['npm', 'install', '--prefer-offline', '--no-audit', '--no-fund', ...files],
        project,
        env,
        5 * 60_000,
      ),
      'npm install',
    );
    installed = path.join(project, 'node_modules/xdpnet');
    fs.writeFileSync(path.join(project, 'echo-app.mjs'), ECHO_APP);
    fs.writeFileSync(path.join(project, 'run-echo.cjs'), RUNNER);
    fs.writeFileSync(path.join(project, 'esm-check.mjs'), ESM_CHECK);
    fs.writeFileSync(path.join(project, 'cjs-check.cjs'), CJS_CHECK);
  });

  after(async function () {
    try {
      if (runner && runner.exitCode === null && runner.signalCode === null) {
        runner.kill('SIGKILL');
      }
      await bed?.down();
    } finally {
      if (work) fs.rmSync(work, { recursive: true, force: true });
    }
  });

  it('installs the JavaScript without tests, sources or maps, and the prebuilt parts beside it', function () {
    const files = filesUnder(installed);
    for (const want of ['package.json', 'README.md', 'bin/xdpnet.js', 'dist/ts/index.js']) {
      assert.ok(files.includes(want), `${want} not installed`);
    }
    for (const want of [
      'dist/ts/index.d.ts',
      'dist/perf/run-perf.js',
      'dist/examples/udp-echo.js',
    ]) {
      assert.ok(files.includes(want), `${want} not installed`);
    }
    const unwanted = files.filter((f) =>
      /^(dist\/test|test|crates|target|ts|perf|examples|rings|scripts|npm|\.ci)\/|\.(rs|map|node)$|^Cargo\.|^dist\/perf\/bench\//.test(
        f,
      ),
    );
    assert.deepEqual(unwanted, []);

    const platform = path.join(project, 'node_modules', PLATFORM_PACKAGE);
    assert.deepEqual(filesUnder(platform).sort(), [
      'README.md',
      'node-xdp.linux-x64-gnu.node',
      'package.json',
      'xdpnet-peer',
      'xdpnet-smoltcp-bench',
    ]);
    for (const tool of ['xdpnet-peer', 'xdpnet-smoltcp-bench']) {
      fs.accessSync(path.join(platform, tool), fs.constants.X_OK);
    }
    const pkg = JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8')) as {
      optionalDependencies?: Record<string, string>;
      scripts?: unknown;
    };
    assert.ok(
      pkg.optionalDependencies?.[PLATFORM_PACKAGE],
      'no optionalDependency on the platform',
    );
    assert.equal(pkg.scripts, undefined);
    const platformPkg = JSON.parse(
      fs.readFileSync(path.join(platform, 'package.json'), 'utf8'),
    ) as {
      os: string[];
      cpu: string[];
      libc: string[];
    };
    assert.deepEqual(
      [platformPkg.os, platformPkg.cpu, platformPkg.libc],
      [['linux'], ['x64'], ['glibc']],
    );
  });

  it('imports xdpnet as ESM and with require, with the same exports', async function () {
    const esm = must(await run(['node', 'esm-check.mjs'], project, env, 30_000), 'import');
    const cjs = must(await run(['node', 'cjs-check.cjs'], project, env, 30_000), 'require');
    const names = JSON.parse(esm.stdout) as string[];
    for (const name of ['Engine', 'TestBed', 'dgram', 'net', 'http']) {
      assert.ok(names.includes(name), `${name} not exported: ${esm.stdout}`);
    }
    assert.deepEqual(JSON.parse(cjs.stdout), names);
  });

  it('runs an app on the test bed that the kernel peer talks to (UDP echo, IPv4 and IPv6)', async function () {
    bed = await TestBed.up();
    const child = spawn(
      'node',
      [
        'run-echo.cjs',
        bed.engineIf,
        `${bed.engineIpv4}/${bed.ipv4Prefix}`,
        `${bed.engineIpv6}/${bed.ipv6Prefix}`,
      ],
      { cwd: project, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    runner = child;
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => resolve(code)),
    );
    const ready = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no "ready" in 60 s: ${stderr}`)), 60_000);
      createInterface({ input: child.stdout! }).once('line', (line) => {
        clearTimeout(t);
        resolve(line);
      });
      child.once('exit', (code) => {
        clearTimeout(t);
        reject(new Error(`the app exited ${code}: ${stderr}`));
      });
    });
    assert.equal(ready, 'ready');

    for (const dst of [bed.engineIpv4, bed.engineIpv6]) {
      const r = await bed.exec(['python3', '-c', PY_UDP_ECHO_CLIENT, dst, '1,64,1000,1400'], {
        timeoutMs: 60_000,
      });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), { ok: 4, bad: 0, lost: 0 }, `to ${dst}`);
    }

    // The engine's graceful stop: exits 128 + SIGTERM.
    child.kill('SIGTERM');
    const code = await Promise.race([
      exited,
      new Promise<never>((_, reject) =>
        setTimeout(
          () => reject(new Error(`no exit within 30 s of SIGTERM: ${stderr}`)),
          30_000,
        ).unref(),
      ),
    ]);
    assert.equal(code, 143, stderr);
    await bed.down();
    bed = undefined;
  });

  it('runs perf rxdrop through the installed xdpnet command', async function () {
    const xdpnet = path.join(project, 'node_modules/.bin/xdpnet');
    const r = must(
      await run([xdpnet, 'perf', 'rxdrop', '--seconds', '1'], project, env, 3 * 60_000),
      'xdpnet perf rxdrop',
    );
    const last = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
      mode: string;
      packets: number;
      baseline?: { packets: number };
    };
    assert.equal(last.mode, 'rxdrop');
    assert.ok(last.packets > 0, r.stdout);
    assert.ok((last.baseline?.packets ?? 0) > 0, r.stdout);
  });
});
