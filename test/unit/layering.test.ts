// Layering: the public API (ts/api) sits on the socket and iface layers and never imports the
// worker runtime (ts/runtime). The runtime is the layer that wires things: it builds a worker's
// stack and hands it to the api (ts/api/worker-stack.ts), not the other way round. Likewise the
// CLI runs the perf harness, which never reaches back into the CLI.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// dist/test/unit/ -> the repository root
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...tsFiles(p));
    else if (entry.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

// The module specifiers of every static import/export ... from, bare import '...', dynamic
// import('...') and import type of a file.
const SPECIFIER =
  /\b(?:import|export)\s[^;]*?\sfrom\s*['"]([^'"]+)['"]|\bimport\s*\(?\s*['"]([^'"]+)['"]/g;

function importsOf(source: string): string[] {
  const specs: string[] = [];
  for (const m of source.matchAll(SPECIFIER)) specs.push(m[1] ?? m[2]);
  return specs;
}

/** Files under `from` (relative to the root) with a relative import that resolves into `to`. */
function importsInto(from: string, to: string): string[] {
  const target = path.join(root, to) + path.sep;
  const found: string[] = [];
  for (const file of tsFiles(path.join(root, from))) {
    for (const spec of importsOf(readFileSync(file, 'utf8'))) {
      if (!spec.startsWith('.')) continue;
      const resolved = path.resolve(path.dirname(file), spec);
      if (resolved.startsWith(target)) found.push(`${path.relative(root, file)} imports ${spec}`);
    }
  }
  return found;
}

describe('layering', () => {
  it('the import scanner sees every form of import', () => {
    const src = [
      "import { a } from '../runtime/a.js';",
      "import type { B } from '../../runtime/b.js';",
      'import {\n  c,\n  d,\n} from "../runtime/c.js";',
      "export { e } from '../runtime/e.js';",
      "export * from '../runtime/f.js';",
      "import '../runtime/g.js';",
      "const h = await import('../runtime/h.js');",
    ].join('\n');
    assert.deepEqual(importsOf(src), [
      '../runtime/a.js',
      '../../runtime/b.js',
      '../runtime/c.js',
      '../runtime/e.js',
      '../runtime/f.js',
      '../runtime/g.js',
      '../runtime/h.js',
    ]);
  });

  it('no file under ts/api imports from ts/runtime', () => {
    assert.ok(tsFiles(path.join(root, 'ts/api')).length > 10, 'found the ts/api sources');
    assert.deepEqual(importsInto('ts/api', 'ts/runtime'), []);
  });

  it('perf does not import the CLI (the CLI runs perf, one direction only)', () => {
    assert.ok(importsInto('ts/cli', 'perf').length > 0, 'the CLI does import perf');
    assert.deepEqual(importsInto('perf', 'ts/cli'), []);
  });
});
