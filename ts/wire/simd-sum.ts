// Packet memory that the Internet checksum can sum with WebAssembly SIMD.
//
// A JavaScript loop sums about 2.5-3.5 bytes per ns (sumWide in checksum.ts: Int32 loads, two
// chains); 16-byte SIMD loads sum a 1448-byte payload in ~80 ns instead of ~500. WebAssembly can
// only read its own memory, so packet buffers that want the fast sum are allocated as a shared
// WebAssembly.Memory (whose buffer is an ordinary SharedArrayBuffer to everyone else: rings, UMEM
// registration, other threads). Each thread that sums over such a buffer needs the Memory object
// itself to instantiate the module (a SharedArrayBuffer alone cannot be imported): packetMemory()
// registers the Memory it creates in the calling thread, and adoptPacketMemory() registers one
// received from another thread. Anything else is summed by the JavaScript loop, as before.
//
// The module is ts/wire/simd-sum.wat, compiled by wat2wasm; its bytes are embedded below so the
// package needs no build step for it (test/wire/simd-sum.test.ts checks they match the source).

const WASM_PAGE = 65536;

// The few members of the WebAssembly JS API used here: TypeScript's lib declares them only with
// "dom", and @types/node 20 not at all.

/**
 * Packet memory as other threads receive it: a shared WebAssembly.Memory, whose `buffer` is a
 * SharedArrayBuffer (only the member used here is declared).
 */
export interface PacketMemory {
  readonly buffer: ArrayBufferLike;
}
interface WasmModule {
  readonly kind?: never;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => PacketMemory;
  Instance: new (
    module: WasmModule,
    imports: Record<string, Record<string, unknown>>,
  ) => { readonly exports: Record<string, unknown> };
}
const Wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** wat2wasm --enable-threads ts/wire/simd-sum.wat, as base64. */
const MODULE_BASE64 =
  'AGFzbQEAAAABBwFgAn9/AX8CDQEBbQNtZW0CAwGAgAQDAgEABwcBA3N1bQAACsUBAcIBAgJ7AX8gACABaiEEAkADQCAAQSBqIARLDQEgAiAA/QAEAP1//a4BIQIgAyAA/QAEEP1//a4BIQMgAEEgaiEADAALCyAAQRBqIARNBEAgAiAA/QAEAP1//a4BIQILIAL9DP//AAD//wAA//8AAP//AAD9TiACQRD9rQH9rgEhAiAD/Qz//wAA//8AAP//AAD//wAA/U4gA0EQ/a0B/a4BIQMgAiAD/a4BIQIgAv0bACAC/RsBaiAC/RsCIAL9GwNqags=';

/** Sums `n` (a multiple of 16, at most MAX_SIMD_RUN) bytes at byte address `p`: see simd-sum.wat. */
export type SimdSum = (p: number, n: number) => number;

/** The longest run one call may sum without a 32-bit lane overflowing (simd-sum.wat). */
export const MAX_SIMD_RUN = 1 << 20;

let compiled: WasmModule | null = null;
const registered: { buffer: ArrayBufferLike; sum: SimdSum }[] = [];

function compiledModule(): WasmModule {
  compiled ??= new Wasm.Module(Buffer.from(MODULE_BASE64, 'base64'));
  return compiled;
}

/** Whether this V8 runs WebAssembly SIMD and shared memories (Node 16.4+ does). */
function supported(): boolean {
  try {
    compiledModule();
    return true;
  } catch {
    return false;
  }
}

/**
 * A SharedArrayBuffer of at least `bytes` bytes (whole 64 KiB pages) whose checksums this
 * thread sums with SIMD. Pass `memory` to other threads and call adoptPacketMemory there.
 */
export function packetMemory(bytes: number): {
  buffer: SharedArrayBuffer;
  memory: PacketMemory | null;
} {
  const pages = Math.max(1, Math.ceil(bytes / WASM_PAGE));
  if (!supported()) return { buffer: new SharedArrayBuffer(pages * WASM_PAGE), memory: null };
  const memory = new Wasm.Memory({ initial: pages, maximum: pages, shared: true });
  adoptPacketMemory(memory);
  return { buffer: memory.buffer as SharedArrayBuffer, memory };
}

/** Let this thread sum over `memory` with SIMD (a Memory made by packetMemory in any thread). */
export function adoptPacketMemory(memory: PacketMemory): void {
  const buffer = memory.buffer;
  if (registered.some((r) => r.buffer === buffer)) return;
  const instance = new Wasm.Instance(compiledModule(), { m: { mem: memory } });
  registered.push({ buffer, sum: instance.exports.sum as SimdSum });
}

// The last array asked about, hit or miss: one identity compare per call on the hot path, since
// reading `buf.buffer` is a builtin call (see wordsOver in checksum.ts).
let lastArray: Uint8Array | null = null;
let lastSum: SimdSum | null = null;

/** The SIMD sum over `buf`'s memory, or null when `buf` is not packet memory of this thread. */
export function simdSumOver(buf: Uint8Array): SimdSum | null {
  if (buf === lastArray) return lastSum;
  return simdSumOverMiss(buf);
}

function simdSumOverMiss(buf: Uint8Array): SimdSum | null {
  const buffer = buf.buffer;
  lastArray = buf;
  lastSum = null;
  for (const r of registered) if (r.buffer === buffer) lastSum = r.sum;
  return lastSum;
}
