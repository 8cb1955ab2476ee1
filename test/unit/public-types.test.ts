// The public API is complete: every option and stats type a public function takes or returns is
// importable from `xdpnet` (a fixture compiled as an app would compile against the package),
// and the API reference builds without a warning (TypeDoc warns about a type that is named by
// the API but not exported, and about links it cannot resolve).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
// dist/test/unit/ -> the repository root
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const fixture = path.join(root, 'test/fixtures/public-types/tsconfig.json');

describe('public types', () => {
  it('resolves `xdpnet` from inside the package to the built entry and its declarations', () => {
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
    const entry = pkg.exports['.'];
    assert.equal(entry.types, './dist/ts/index.d.ts');
    assert.ok(existsSync(path.join(root, entry.types)), 'built declarations (run the build first)');
    const require = createRequire(path.join(root, 'test/fixtures/public-types/'));
    assert.equal(require.resolve('xdpnet'), path.join(root, entry.default));
  });

  it('compiles an app that imports every public option and stats type from `xdpnet`', async function () {
    this.timeout(120_000);
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    try {
      await run(process.execPath, [tsc, '-p', fixture], { cwd: root });
    } catch (err) {
      const { stdout, stderr } = err as { stdout?: string; stderr?: string };
      assert.fail(`the fixture does not compile:\n${stdout ?? ''}${stderr ?? ''}`);
    }
  });

  it('exports at run time the values the fixture uses', async () => {
    const m = await import('xdpnet');
    for (const name of ['Engine', 'TestBed', 'MemoryPort', 'PcapTap', 'PcapWriter', 'Reta']) {
      assert.equal(typeof (m as Record<string, unknown>)[name], 'function', name);
    }
    assert.equal(typeof m.VirtualClock.create, 'function');
    assert.ok(m.counterNames.length > 0 && m.custodyNames.includes('free'));
    assert.equal(typeof m.MemoryPair.create, 'function');
  });

  it('npm run docs prints no warning', async function () {
    this.timeout(300_000);
    const out = mkdtempSync(path.join(tmpdir(), 'xdpnet-docs-'));
    try {
      const { stdout, stderr } = await run('npm', ['run', 'docs', '--', '--out', out], {
        cwd: root,
        env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
        maxBuffer: 16 << 20,
      });
      const output = stdout + stderr;
      const warnings = output.split('\n').filter((line) => /warning/i.test(line));
      assert.deepEqual(warnings, [], output);
      assert.ok(existsSync(path.join(out, 'index.html')), 'the reference was written');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
