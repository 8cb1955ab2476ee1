// Where the addon and the Rust tools are found (ts/dev/xdp/artifacts.ts): in a clone, the build
// tree; installed, the platform package. The installed case runs in test/package/install.test.ts.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  artifactPath,
  missingArtifactMessage,
  packageRoot,
  platformPackageName,
  platformTriple,
} from '../../ts/dev/xdp/artifacts.js';

describe('native artifacts: build tree in a clone, platform package when installed', function () {
  it("names this machine's platform as napi-rs does, and its package after it", function () {
    if (process.platform !== 'linux' || process.arch !== 'x64') this.skip();
    assert.match(platformTriple(), /^linux-x64-(gnu|musl)$/);
    assert.equal(platformPackageName(), `xdpnet-${platformTriple()}`);
    // The platform package in the repository is the one this machine would install.
    const manifest = JSON.parse(
      fs.readFileSync(path.join(packageRoot, 'npm', 'linux-x64-gnu', 'package.json'), 'utf8'),
    ) as { name: string; version: string };
    assert.equal(manifest.name, 'xdpnet-linux-x64-gnu');
    const main = JSON.parse(fs.readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as {
      version: string;
    };
    assert.equal(manifest.version, main.version);
  });

  it('finds the addon and the tools in the build tree of a clone', function () {
    const built = {
      addon: 'crates/node-xdp/node-xdp.node',
      'xdpnet-peer': 'target/release/xdpnet-peer',
      'xdpnet-smoltcp-bench': 'target/release/xdpnet-smoltcp-bench',
    } as const;
    for (const [what, file] of Object.entries(built)) {
      const full = path.join(packageRoot, file);
      if (!fs.existsSync(full)) continue; // not built here: missingArtifactMessage's case
      assert.equal(artifactPath(what as keyof typeof built), full);
    }
  });

  it('says how to get a missing artifact: the build command, or the platform package', function () {
    const message = missingArtifactMessage('xdpnet-smoltcp-bench');
    assert.match(message, /xdpnet-smoltcp-bench is missing/);
    assert.match(message, /npm run build:peer/);
    assert.match(message, new RegExp(platformPackageName()));
    assert.match(missingArtifactMessage('addon'), /npm run build:native/);
  });
});
