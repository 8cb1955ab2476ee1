// RSS secret keys. The default is the 40-byte key from Microsoft's RSS specification that most
// NICs (Intel, Mellanox, virtio) ship with, so our software hash agrees with their hardware hash.

/** Parses a key written as hex (spaces and colons allowed); throws EINVAL on bad input. */
export function rssKeyFromHex(hex: string): Uint8Array {
  const clean = hex.replace(/[\s:]/g, '');
  if (clean.length === 0 || clean.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(clean)) {
    throw Object.assign(new Error(`RSS key '${hex}' must be an even number of hex digits`), {
      code: 'EINVAL',
    });
  }
  const key = new Uint8Array(clean.length / 2);
  for (let i = 0; i < key.length; i++) key[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return key;
}

/** The common 40-byte Microsoft/Intel RSS key (hashes up to 36 input bytes: IPv6 + ports). */
export const DEFAULT_RSS_KEY: Uint8Array = rssKeyFromHex(
  '6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae7b30b477cb2da38030f20c6a42b73bbeac01fa',
);

/**
 * A 40-byte symmetric key: 0x6d5a repeated. With a 16-bit period every input bit at position k
 * sees the same key window as bit k + 16, so swapping source and destination (addresses 32/128
 * bits apart, ports 16 bits apart) gives the same hash: both directions of a flow meet on one
 * worker (Woo and Park, "Scalable TCP Session Monitoring with Symmetric Receive-side Scaling").
 */
export const SYMMETRIC_RSS_KEY: Uint8Array = rssKeyFromHex('6d5a'.repeat(20));
