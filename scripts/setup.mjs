#!/usr/bin/env node
// Makes the machine ready for `npm test` and `npm run demo` (the pretest/predemo hooks):
//  1. the system tools the test bed, tests and perf harness run; installed with apt-get when
//     running as root, otherwise the exact packages to install are printed and we exit non-zero;
//  2. node_modules, and a native addon and TypeScript build no older than their sources.
// Plain Node ESM without dependencies: it has to run before `npm ci` has.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const NATIVE_ADDON = path.join(ROOT, 'crates/node-xdp/node-xdp.node');
const PEER_TOOL = path.join(ROOT, 'target/release/xdpnet-peer');
/** The smoltcp baseline of perf mem-tcp-stream and mem-tcp-rr (crates/tcp-baseline). */
const SMOLTCP_BENCH = path.join(ROOT, 'target/release/xdpnet-smoltcp-bench');
const TS_STAMP = path.join(ROOT, 'dist/.build-stamp');
const TS_DIRS = ['ts', 'rings', 'test', 'perf', 'examples'];

/** command -> Debian package that provides it */
const TOOLS = {
  ip: 'iproute2',
  tc: 'iproute2',
  ethtool: 'ethtool',
  sysctl: 'procps',
  ping: 'iputils-ping',
  arping: 'iputils-arping',
  nc: 'netcat-openbsd',
  sockperf: 'sockperf',
  tshark: 'tshark',
  curl: 'curl',
  wrk: 'wrk',
  wat2wasm: 'wabt',
  openssl: 'openssl',
  setpriv: 'util-linux',
  // Headless, for the test that opens the perf report (test/perf/report.test.ts).
  chromium: 'chromium',
};

function say(line) {
  process.stdout.write(`setup: ${line}\n`);
}

function fail(line) {
  process.stderr.write(`setup: ${line}\n`);
  process.exit(1);
}

/** Runs a command with inherited output; exits this script if it fails. */
function run(argv, opts = {}) {
  const result = spawnSync(argv[0], argv.slice(1), { cwd: ROOT, stdio: 'inherit', ...opts });
  if (result.error || result.status !== 0) {
    fail(`'${argv.join(' ')}' failed (${result.error?.message ?? `exit ${result.status}`})`);
  }
}

// Non-root PATHs often lack the sbin directories where ip, tc and ethtool live.
const SEARCH_PATH = [
  ...(process.env.PATH ?? '').split(':'),
  '/usr/local/sbin',
  '/usr/sbin',
  '/sbin',
].filter(Boolean);

function hasCommand(name) {
  return SEARCH_PATH.some((dir) => {
    try {
      fs.accessSync(path.join(dir, name), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function ensureTools() {
  const missing = Object.keys(TOOLS).filter((tool) => !hasCommand(tool));
  if (missing.length === 0) {
    say(`system tools present (${Object.keys(TOOLS).length})`);
    return;
  }
  const packages = [...new Set(missing.map((tool) => TOOLS[tool]))];
  if (process.getuid?.() !== 0) {
    fail(
      `missing ${missing.join(', ')}; install them as root:\n` +
        `  apt-get update && apt-get install -y ${packages.join(' ')}`,
    );
  }
  say(`installing ${packages.join(' ')} (for ${missing.join(', ')})`);
  // Without this answer, installing tshark stops to ask whether to make dumpcap setuid.
  run(['debconf-set-selections'], {
    input: 'wireshark-common wireshark-common/install-setuid boolean false\n',
    stdio: ['pipe', 'inherit', 'inherit'],
  });
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run(['apt-get', 'update'], { env });
  run(['apt-get', 'install', '-y', ...packages], { env });
  const still = Object.keys(TOOLS).filter((tool) => !hasCommand(tool));
  if (still.length) fail(`still missing after apt-get: ${still.join(', ')}`);
}

/** Newest mtime (ms) of the files under dir accepted by want; 0 if none. */
function newestMtime(dir, want) {
  let newest = 0;
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    if (entry.name === 'node_modules' || entry.name === 'target' || entry.name === 'dist') continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(full, want));
    else if (entry.isFile() && want(entry.name))
      newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

function mtimeOf(file) {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

function ensureBuild() {
  if (!fs.existsSync(path.join(ROOT, 'node_modules'))) {
    say(
      'node_modules missing: npm ci (the locked dependencies; its prepare script builds everything)',
    );
    run(['npm', 'ci']);
    fs.mkdirSync(path.dirname(TS_STAMP), { recursive: true });
    fs.writeFileSync(TS_STAMP, `${new Date().toISOString()}\n`);
    return;
  }
  const rustSources = Math.max(
    newestMtime(path.join(ROOT, 'crates'), (n) => n.endsWith('.rs') || n === 'Cargo.toml'),
    mtimeOf(path.join(ROOT, 'Cargo.toml')),
  );
  let nativeRebuilt = false;
  if (rustSources > mtimeOf(NATIVE_ADDON)) {
    say('native addon missing or older than crates/: npm run build:native');
    run(['npm', 'run', 'build:native']);
    nativeRebuilt = true;
  } else {
    say('native addon up to date');
  }
  if (rustSources > Math.min(mtimeOf(PEER_TOOL), mtimeOf(SMOLTCP_BENCH))) {
    say('peer tool or smoltcp bench missing or older than crates/: npm run build:peer');
    run(['npm', 'run', 'build:peer']);
  }
  const tsSources = Math.max(
    ...TS_DIRS.map((d) => newestMtime(path.join(ROOT, d), (n) => n.endsWith('.ts'))),
    mtimeOf(path.join(ROOT, 'tsconfig.json')),
  );
  // The addon's index.d.ts is an input to the TypeScript build too.
  if (nativeRebuilt || tsSources > mtimeOf(TS_STAMP)) {
    say('TypeScript build missing or older than its sources: npm run build:ts');
    run(['npm', 'run', 'build:ts']);
    fs.writeFileSync(TS_STAMP, `${new Date().toISOString()}\n`);
  } else {
    say('TypeScript build up to date');
  }
}

ensureTools();
ensureBuild();
