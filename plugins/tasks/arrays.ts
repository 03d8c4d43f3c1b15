// Typed-array plumbing shared by the tasks.

/** The parts one after the other (the part itself when there is one). */
export function concatTyped<T extends Float32Array | BigInt64Array>(parts: readonly T[], alloc: (length: number) => T): T {
  if (parts.length === 1) return parts[0]!;
  const out = alloc(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    // Same element type on both sides: the union only hides it from the compiler.
    (out as Float32Array).set(p as Float32Array, at);
    at += p.length;
  }
  return out;
}
