// Where the native parts are: the node-xdp addon and the Rust tools (xdpnet-peer, the test bed's
// wire relay and the perf modes' kernel-side load; xdpnet-smoltcp-bench, the perf mem-tcp-*
// baseline). In a clone they are in the build tree (crates/node-xdp, target/release); in an
// installed package they come prebuilt in the platform package (xdpnet-linux-x64-gnu, the napi-rs
// layout: one npm package per platform with os, cpu and libc set, picked by npm through the main
// package's optionalDependencies). The build tree wins when it has the file, so a clone always
// runs what it built.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import fs from 'node:fs';

/** The package root: dist/ts/dev/xdp/artifacts.js sits four levels below it. */
export const packageRoot = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../..',
);

/** The Rust tools that ship beside the addon. */
export type NativeTool = 'xdpnet-peer' | 'xdpnet-smoltcp-bench';

/** The platforms there is a package for (napi-rs names: platform-arch-abi). */
export const PLATFORMS = ['linux-x64-gnu'] as const;

let triple: string | undefined;

/** This process's platform in napi-rs's naming, e.g. 'linux-x64-gnu' or 'linux-x64-musl'. */
export function platformTriple(): string {
  if (triple !== undefined) return triple;
  let abi = '';
  if (process.platform === 'linux') {
    // As napi-rs's loader tells glibc from musl: a glibc process reports its runtime version.
    const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } };
    abi = report?.header?.glibcVersionRuntime ? '-gnu' : '-musl';
  }
  triple = `${process.platform}-${process.arch}${abi}`;
  return triple;
}

/** The platform package for this process's platform: `xdpnet-<platform>`. */
export function platformPackageName(): string {
  return `xdpnet-${platformTriple()}`;
}

/** The addon's file name in the platform package, as napi-rs names it. */
function platformAddonFile(): string {
  return `node-xdp.${platformTriple()}.node`;
}

let platformDir: string | null | undefined;

/** The installed platform package's folder, or null when npm did not install one. */
export function platformPackageDir(): string | null {
  if (platformDir !== undefined) return platformDir;
  try {
    const manifest = createRequire(import.meta.url).resolve(
      `${platformPackageName()}/package.json`,
    );
    platformDir = path.dirname(manifest);
  } catch {
    platformDir = null;
  }
  return platformDir;
}

/** Where one artifact is built in a clone and where the platform package has it. */
interface Places {
  buildTree: string;
  platformFile: () => string;
  build: string;
}

function places(what: 'addon' | NativeTool): Places {
  if (what === 'addon') {
    return {
      buildTree: path.join(packageRoot, 'crates/node-xdp/node-xdp.node'),
      platformFile: platformAddonFile,
      build: 'npm run build:native',
    };
  }
  return {
    buildTree: path.join(packageRoot, 'target/release', what),
    platformFile: () => what,
    build: 'npm run build:peer',
  };
}

function find(what: 'addon' | NativeTool): string | null {
  const p = places(what);
  if (fs.existsSync(p.buildTree)) return p.buildTree;
  const dir = platformPackageDir();
  if (dir !== null && fs.existsSync(path.join(dir, p.platformFile()))) {
    return path.join(dir, p.platformFile());
  }
  return null;
}

/** Why `what` cannot be found, and what to do about it. */
export function missingArtifactMessage(what: 'addon' | NativeTool): string {
  const p = places(what);
  const name = what === 'addon' ? 'the node-xdp addon' : what;
  const supported = (PLATFORMS as readonly string[]).includes(platformTriple());
  const pkg = platformPackageName();
  const installed = supported
    ? `npm installs it with xdpnet as ${pkg} (an optional dependency: check that ` +
      'optional dependencies were not omitted)'
    : `there is no prebuilt package for ${platformTriple()} (only ${PLATFORMS.join(', ')})`;
  return (
    `${name} is missing: it is neither in the build tree (${p.buildTree}; in a clone, ` +
    `\`${p.build}\` builds it) nor in an installed platform package (${installed})`
  );
}

/**
 * The path of `what`: the build tree's when it is there, else the platform package's. When
 * neither has it, the build tree's path (which does not exist: callers check, and say
 * missingArtifactMessage).
 */
export function artifactPath(what: 'addon' | NativeTool): string {
  return find(what) ?? places(what).buildTree;
}
