// "Did you mean ...?" for a mistyped command, mode or flag: the known name nearest by edit
// distance, if it is near enough to be what was meant.

/**
 * Edit distance with adjacent transpositions (optimal string alignment): `secnods` is one edit
 * from `seconds`, as a typist would count it.
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

/**
 * The known name `typed` most likely meant, or undefined when none is close: within a third of
 * its length in edits (at least 1, at most 3), or one that starts with it (`--sec`).
 */
export function closest(typed: string, known: readonly string[]): string | undefined {
  const limit = Math.min(3, Math.max(1, Math.floor(typed.length / 3)));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of known) {
    const distance = editDistance(typed, name);
    if (distance < bestDistance) [best, bestDistance] = [name, distance];
  }
  if (best !== undefined && bestDistance <= limit) return best;
  const prefixed = known.filter((name) => typed.length >= 2 && name.startsWith(typed));
  return prefixed.length === 1 ? prefixed[0] : undefined;
}
