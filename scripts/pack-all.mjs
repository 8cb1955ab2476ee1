#!/usr/bin/env node
// npm run pack:all -- DIR [--no-build]: writes the npm tarballs of xdpnet into DIR, the napi-rs
// way: the main package (JavaScript, its `files` list) and the platform package
// xdpnet-linux-x64-gnu (npm/linux-x64-gnu: the node-xdp addon, xdpnet-peer and
// xdpnet-smoltcp-bench, prebuilt), which the main package names in optionalDependencies so npm
// installs it on Linux x64 with glibc and skips it elsewhere. Like `napi pre-publish`, the
// optionalDependencies are added to the packed package.json only: the repository's has none, so a
// clone never fetches a platform package and always runs its own build.
//
// First builds everything (`npm run build`: addon, tools, TypeScript) unless --no-build, which
// packs what is built. Prints the two tarballs' paths, main first. Plain Node, no dependencies.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The one platform there is a package for, in napi-rs's naming. */
const PLATFORM = 'linux-x64-gnu';
const PLATFORM_DIR = path.join(ROOT, 'npm', PLATFORM);
/** Platform package file -> where the build puts it. */
const NATIVE = {
  [`node-xdp.${PLATFORM}.node`]: 'crates/node-xdp/node-xdp.node',
  'xdpnet-peer': 'target/release/xdpnet-peer',
  'xdpnet-smoltcp-bench': 'target/release/xdpnet-smoltcp-bench',
};
/** The main package cannot work without these. */
const MAIN_REQUIRED = ['bin/xdpnet.js', 'dist/ts/index.js', 'dist/ts/cli/main.js'];

function fail(line) {
  process.stderr.write(`pack:all: ${line}\n`);
  process.exit(1);
}

function say(line) {
  process.stderr.write(`pack:all: ${line}\n`);
}

/** Runs argv in cwd; returns its stdout, or exits with its stderr when it fails. */
function run(argv, cwd, { capture = false } = {}) {
  const result = spawnSync(argv[0], argv.slice(1), {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', capture ? 'pipe' : 'inherit', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error || result.status !== 0) {
    fail(`'${argv.join(' ')}' failed (${result.error?.message ?? `exit ${result.status}`})`);
  }
  return result.stdout ?? '';
}

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/** This machine in napi-rs's naming (glibc reports its version; musl does not). */
function hostPlatform() {
  const glibc = process.report?.getReport()?.header?.glibcVersionRuntime;
  return `${process.platform}-${process.arch}${process.platform === 'linux' ? (glibc ? '-gnu' : '-musl') : ''}`;
}

/** `npm pack` of a staged folder into dir; returns the tarball's path. */
function npmPack(folder, dir) {
  const out = run(
    ['npm', 'pack', '--ignore-scripts', '--json', '--pack-destination', dir],
    folder,
    { capture: true },
  );
  const [info] = JSON.parse(out);
  return path.join(dir, info.filename);
}

/** The main package: its `files` as npm packs them, package.json with optionalDependencies. */
function stageMain(stage, platformName, version) {
  const listing = JSON.parse(
    run(['npm', 'pack', '--dry-run', '--ignore-scripts', '--json'], ROOT, { capture: true }),
  );
  const files = listing[0].files.map((f) => f.path);
  for (const required of MAIN_REQUIRED) {
    if (!files.includes(required)) fail(`${required} is missing: build first (npm run build)`);
  }
  for (const file of files) {
    const to = path.join(stage, file);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(path.join(ROOT, file), to);
    fs.chmodSync(to, fs.statSync(path.join(ROOT, file)).mode & 0o777);
  }
  const manifest = readJson(path.join(ROOT, 'package.json'));
  // What only the repository uses: the build, test and lint scripts and their tools.
  delete manifest.scripts;
  delete manifest.devDependencies;
  manifest.optionalDependencies = { ...manifest.optionalDependencies, [platformName]: version };
  fs.writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** The platform package: npm/<platform>'s package.json and README with the built binaries. */
function stagePlatform(stage, manifest) {
  for (const file of ['package.json', 'README.md']) {
    fs.copyFileSync(path.join(PLATFORM_DIR, file), path.join(stage, file));
  }
  for (const file of manifest.files) {
    if (!(file in NATIVE)) fail(`npm/${PLATFORM}/package.json lists ${file}, which is not built`);
  }
  for (const [file, built] of Object.entries(NATIVE)) {
    if (!manifest.files.includes(file)) fail(`npm/${PLATFORM}/package.json does not list ${file}`);
    const from = path.join(ROOT, built);
    if (!fs.existsSync(from)) fail(`${built} is missing: build first (npm run build)`);
    fs.copyFileSync(from, path.join(stage, file));
    fs.chmodSync(path.join(stage, file), 0o755);
  }
}

function main() {
  const args = process.argv.slice(2);
  const build = !args.includes('--no-build');
  const rest = args.filter((a) => a !== '--no-build');
  if (rest.length !== 1 || rest[0].startsWith('-')) {
    fail('usage: npm run pack:all -- DIR [--no-build]');
  }
  const dir = path.resolve(rest[0]);
  if (hostPlatform() !== PLATFORM) {
    fail(
      `the platform package is ${PLATFORM} and has to be built there; this is ${hostPlatform()}`,
    );
  }
  const main = readJson(path.join(ROOT, 'package.json'));
  const platform = readJson(path.join(PLATFORM_DIR, 'package.json'));
  if (platform.version !== main.version) {
    fail(
      `npm/${PLATFORM}/package.json has version ${platform.version}, package.json ${main.version}: ` +
        'run `npx napi version` (npm version does it)',
    );
  }
  if (build) {
    say('building the addon, the tools and the TypeScript (npm run build)');
    run(['npm', 'run', 'build'], ROOT);
  }
  fs.mkdirSync(dir, { recursive: true });
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'xdpnet-pack-'));
  try {
    const mainStage = path.join(stage, 'main');
    const platformStage = path.join(stage, 'platform');
    fs.mkdirSync(mainStage);
    fs.mkdirSync(platformStage);
    stageMain(mainStage, platform.name, platform.version);
    stagePlatform(platformStage, platform);
    const tarballs = [npmPack(mainStage, dir), npmPack(platformStage, dir)];
    process.stdout.write(`${tarballs.join('\n')}\n`);
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}

main();
