// Error metrics used by the oracle tests.

type Vec = ArrayLike<number>;

export function maxAbsDiff(a: Vec, b: Vec): number {
    if (a.length !== b.length) throw new Error(`length mismatch: ${a.length} vs ${b.length}`);
    let m = 0;
    for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
    return m;
}

export function l2(a: Vec): number {
    let s = 0;
    for (let i = 0; i < a.length; i++) s += a[i]! * a[i]!;
    return Math.sqrt(s);
}

/**
 * ||a − ref|| / ||ref|| (Euclidean norms over the whole tensor). Per-element relative error is
 * meaningless where the reference is near zero; the tensor-level ratio is what float32 reordering
 * perturbs. When the reference is exactly zero (e.g. lora_a before B has moved), ||a|| is returned.
 */
export function relativeL2(a: Vec, ref: Vec): number {
    if (a.length !== ref.length) throw new Error(`length mismatch: ${a.length} vs ${ref.length}`);
    let num = 0;
    for (let i = 0; i < a.length; i++) num += (a[i]! - ref[i]!) ** 2;
    const den = l2(ref);
    return den === 0 ? Math.sqrt(num) : Math.sqrt(num) / den;
}
