// Seeded, platform-independent shuffling: the same seed orders examples the same way on every machine, which
// resume and reproducible runs depend on.
import { hashString, Sfc32 } from "../tinyModel/prng";

/** A copy of `items` in a Fisher–Yates order drawn from `seed` (and `stream`, e.g. the epoch). */
export function seededShuffle<T>(items: readonly T[], seed: number, stream = 0): T[] {
    const rng = new Sfc32(seed >>> 0, hashString(`pipeline-shuffle/${stream}`));
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
        // Rejection sampling keeps the draw unbiased for any length.
        const bound = i + 1;
        const limit = Math.floor(4294967296 / bound) * bound;
        let r = rng.nextU32();
        while (r >= limit) r = rng.nextU32();
        const j = r % bound;
        [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
}
