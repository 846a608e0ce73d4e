// Deterministic random numbers for model weights: the same seed gives the same bytes on every machine
// and Node version (integer arithmetic plus Math.log/sqrt/cos, which V8 computes with fdlibm ports).

/** FNV-1a over a string, so each tensor gets its own stream independent of generation order. */
export function hashString(s: string): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < s.length; i++) {
        h ^= s.charCodeAt(i);
        h = Math.imul(h, 0x01000193) >>> 0;
    }
    return h >>> 0;
}

/** sfc32: small, fast, well-distributed 32-bit generator. */
export class Sfc32 {
    private a: number;
    private b: number;
    private c: number;
    private d = 1;

    constructor(seed: number, stream: number) {
        this.a = seed >>> 0;
        this.b = stream >>> 0;
        this.c = 0x9e3779b9;
        for (let i = 0; i < 15; i++) this.nextU32(); // decorrelate nearby seeds
    }

    nextU32(): number {
        const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
        this.d = (this.d + 1) >>> 0;
        this.a = this.b ^ (this.b >>> 9);
        this.b = (this.c + (this.c << 3)) >>> 0;
        this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
        this.c = (this.c + t) >>> 0;
        return t;
    }

    /** Uniform in (0, 1), never 0 so that log() is finite. */
    nextOpen01(): number {
        return (this.nextU32() + 0.5) / 4294967296;
    }

    /** Fills `out` with N(0, std²) values (Box–Muller, both outputs used). */
    fillNormal(out: Float32Array, std: number): Float32Array {
        for (let i = 0; i < out.length; i += 2) {
            const r = Math.sqrt(-2 * Math.log(this.nextOpen01())) * std;
            const phi = 2 * Math.PI * this.nextOpen01();
            out[i] = r * Math.cos(phi);
            if (i + 1 < out.length) out[i + 1] = r * Math.sin(phi);
        }
        return out;
    }
}
