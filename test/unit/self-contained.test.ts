// The repository is self-contained: its architecture document is docs/architecture.md, and no
// tracked file points at a design document or a shared folder outside the repository (which a
// clone of it does not have).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// dist/test/unit/ -> the repository root
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

// Spelt in pieces, so that this file does not match itself.
const designDoc = 'design' + '.md';
const outside = [`shared/${designDoc}`, ['..', 'shared'].join('/'), designDoc];

function trackedFiles(): string[] | undefined {
  try {
    const out = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' });
    return out.split('\0').filter((f) => f !== '' && !f.startsWith('node_modules/'));
  } catch {
    return undefined; // not a git checkout (an installed package)
  }
}

describe('self-contained repository', () => {
  it('holds its architecture document, linked from the README', () => {
    assert.ok(existsSync(path.join(root, 'docs/architecture.md')));
    assert.match(readFileSync(path.join(root, 'README.md'), 'utf8'), /docs\/architecture\.md/);
  });

  it('has no tracked file that refers to a design document outside the repository', function () {
    const files = trackedFiles();
    if (files === undefined) this.skip();
    assert.ok(files.length > 100, 'git ls-files lists the repository');
    const found: string[] = [];
    for (const file of files) {
      const p = path.join(root, file);
      if (!existsSync(p)) continue; // deleted in the work tree
      const text = readFileSync(p, 'utf8');
      if (text.includes('\0')) continue; // binary
      text.split('\n').forEach((line, i) => {
        for (const needle of outside) {
          if (line.includes(needle)) found.push(`${file}:${i + 1}: ${line.trim()}`);
        }
      });
    }
    assert.deepEqual(found, []);
  });

  it('links only to sections that exist in docs/architecture.md', function () {
    const files = trackedFiles();
    if (files === undefined) this.skip();
    const doc = readFileSync(path.join(root, 'docs/architecture.md'), 'utf8');
    // GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens.
    const anchors = new Set(
      [...doc.matchAll(/^#{1,6} (.+)$/gm)].map((m) =>
        m[1]
          .trim()
          .toLowerCase()
          .replace(/[^\p{L}\p{N} _-]/gu, '')
          .replace(/ /g, '-'),
      ),
    );
    const broken: string[] = [];
    for (const file of files) {
      const p = path.join(root, file);
      if (!existsSync(p)) continue;
      const text = readFileSync(p, 'utf8');
      if (text.includes('\0')) continue;
      for (const m of text.matchAll(/architecture\.md#([\w-]+)/g)) {
        if (!anchors.has(m[1])) broken.push(`${file}: #${m[1]}`);
      }
    }
    for (const m of doc.matchAll(/\]\(#([\w-]+)\)/g)) {
      if (!anchors.has(m[1])) broken.push(`docs/architecture.md: #${m[1]}`);
    }
    assert.ok(anchors.has('verified-platform-facts'), 'the anchors were read');
    assert.deepEqual(broken, []);
  });
});
