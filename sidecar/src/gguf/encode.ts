// Encoders from F32 to the on-disk types the tiny-model generator writes without the native engine:
// F16 (IEEE half, round-to-nearest-even), BF16 (bit-exact with ggml's `ggml_compute_fp32_to_bf16`) and Q4_0
// (bit-exact with ggml's `quantize_row_q4_0_ref`).
import { GgmlType } from "./types";

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE-754 binary16 bits of `value`, rounded to nearest even, with overflow to infinity. */
export function f32ToF16Bits(value: number): number {
    f32[0] = value;
    const x = u32[0]!;
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    let mant = x & 0x7fffff;
    if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf / NaN
    const e = exp - 127 + 15;
    if (e >= 0x1f) return sign | 0x7c00;
    if (e <= 0) {
        if (e < -10) return sign; // underflows to signed zero
        mant |= 0x800000;
        const shift = 14 - e;
        let half = mant >>> shift;
        const rest = mant & ((1 << shift) - 1);
        const mid = 1 << (shift - 1);
        if (rest > mid || (rest === mid && (half & 1))) half++;
        return sign | half;
    }
    let half = (e << 10) | (mant >>> 13);
    const rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && (half & 1))) half++; // may carry into the exponent: correct
    return sign | half;
}

export function encodeF16(src: Float32Array): Uint8Array {
    const out = new Uint16Array(src.length);
    for (let i = 0; i < src.length; i++) out[i] = f32ToF16Bits(src[i]!);
    return new Uint8Array(out.buffer);
}

export function f16BitsToF32(h: number): number {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0) return sign * mant * 2 ** -24;
    if (exp === 0x1f) return mant ? NaN : sign * Infinity;
    return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** bfloat16 bits of `value`: the top half of its F32 bits, rounded to nearest even; NaN stays a quiet NaN. */
export function f32ToBf16Bits(value: number): number {
    f32[0] = value;
    const x = u32[0]!;
    if ((x & 0x7fffffff) > 0x7f800000) return ((x >>> 16) | 64) & 0xffff;
    return ((x + (0x7fff + ((x >>> 16) & 1))) >>> 16) & 0xffff;
}

export function encodeBF16(src: Float32Array): Uint8Array {
    const out = new Uint16Array(src.length);
    for (let i = 0; i < src.length; i++) out[i] = f32ToBf16Bits(src[i]!);
    return new Uint8Array(out.buffer);
}

export function bf16BitsToF32(h: number): number {
    u32[0] = (h & 0xffff) << 16;
    return f32[0]!;
}

const QK4_0 = 32;

/** Q4_0: blocks of 32 values → f16 scale d = max/-8 (max = the value of largest magnitude) + 16 bytes of nibbles. */
export function encodeQ4_0(src: Float32Array): Uint8Array {
    if (src.length % QK4_0 !== 0) throw new Error(`Q4_0 needs a multiple of ${QK4_0} values, got ${src.length}`);
    const nBlocks = src.length / QK4_0;
    const out = new Uint8Array(nBlocks * 18);
    const view = new DataView(out.buffer);
    const fr = Math.fround;
    for (let b = 0; b < nBlocks; b++) {
        const base = b * QK4_0;
        let amax = 0;
        let max = 0;
        for (let j = 0; j < QK4_0; j++) {
            const v = src[base + j]!;
            if (amax < Math.abs(v)) { amax = Math.abs(v); max = v; }
        }
        const d = fr(max / -8);
        const id = d ? fr(1 / d) : 0;
        view.setUint16(b * 18, f32ToF16Bits(d), true);
        for (let j = 0; j < QK4_0 / 2; j++) {
            const x0 = fr(src[base + j]! * id);
            const x1 = fr(src[base + QK4_0 / 2 + j]! * id);
            const xi0 = Math.min(15, Math.trunc(fr(x0 + 8.5)));
            const xi1 = Math.min(15, Math.trunc(fr(x1 + 8.5)));
            out[b * 18 + 2 + j] = xi0 | (xi1 << 4);
        }
    }
    return out;
}

export type EncodableType = typeof GgmlType.F32 | typeof GgmlType.F16 | typeof GgmlType.BF16 | typeof GgmlType.Q4_0;

export function encodeAs(type: EncodableType, src: Float32Array): Uint8Array {
    switch (type) {
        case GgmlType.F32: return new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
        case GgmlType.F16: return encodeF16(src);
        case GgmlType.BF16: return encodeBF16(src);
        case GgmlType.Q4_0: return encodeQ4_0(src);
    }
}
