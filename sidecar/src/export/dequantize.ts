// Decoders from the ggml on-disk types a base model commonly ships in back to F32, so a LoRA delta can be
// folded into its weights. Block layouts follow ggml's `dequantize_row_*` reference functions (ggml-quants.c);
// a type missing here is reported by name instead of being guessed.
import { bf16BitsToF32, f16BitsToF32, GgmlType, ggmlTypeName } from "../gguf";

export class UnsupportedTensorTypeError extends Error {
    constructor(readonly tensorType: number, what: string) {
        super(`${what} is stored as ${ggmlTypeName(tensorType)}, which LoRA Studio cannot dequantize yet (it reads F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q8_0, Q4_K and Q6_K)`);
        this.name = "UnsupportedTensorTypeError";
    }
}

const DEQUANTIZABLE = new Set<number>([
    GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q6_K
]);

export function canDequantize(type: number): boolean {
    return DEQUANTIZABLE.has(type);
}

/** `count` F32 values decoded from `bytes` of ggml type `type`. */
export function dequantize(type: number, bytes: Uint8Array, count: number, what: string): Float32Array {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const out = new Float32Array(count);
    const half = (off: number): number => f16BitsToF32(view.getUint16(off, true));
    switch (type) {
        case GgmlType.F32:
            for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
            return out;
        case GgmlType.F16:
            for (let i = 0; i < count; i++) out[i] = half(i * 2);
            return out;
        case GgmlType.BF16:
            for (let i = 0; i < count; i++) out[i] = bf16BitsToF32(view.getUint16(i * 2, true));
            return out;
        case GgmlType.Q4_0: // d (f16), 16 bytes: low nibbles are values 0..15, high nibbles 16..31; x = (q - 8) · d
            for (let b = 0; b < count / 32; b++) {
                const o = b * 18;
                const d = half(o);
                for (let j = 0; j < 16; j++) {
                    const q = bytes[o + 2 + j]!;
                    out[b * 32 + j] = ((q & 0x0f) - 8) * d;
                    out[b * 32 + j + 16] = ((q >> 4) - 8) * d;
                }
            }
            return out;
        case GgmlType.Q4_1: // d, m (f16), 16 bytes; x = q · d + m
            for (let b = 0; b < count / 32; b++) {
                const o = b * 20;
                const d = half(o);
                const m = half(o + 2);
                for (let j = 0; j < 16; j++) {
                    const q = bytes[o + 4 + j]!;
                    out[b * 32 + j] = (q & 0x0f) * d + m;
                    out[b * 32 + j + 16] = (q >> 4) * d + m;
                }
            }
            return out;
        case GgmlType.Q5_0: // d (f16), qh (u32: the fifth bits), 16 bytes of nibbles; x = (q - 16) · d
            for (let b = 0; b < count / 32; b++) {
                const o = b * 22;
                const d = half(o);
                const qh = view.getUint32(o + 2, true);
                for (let j = 0; j < 16; j++) {
                    const q = bytes[o + 6 + j]!;
                    const h0 = ((qh >>> j) << 4) & 0x10;
                    const h1 = (qh >>> (j + 12)) & 0x10;
                    out[b * 32 + j] = (((q & 0x0f) | h0) - 16) * d;
                    out[b * 32 + j + 16] = (((q >> 4) | h1) - 16) * d;
                }
            }
            return out;
        case GgmlType.Q8_0: // d (f16), 32 × i8
            for (let b = 0; b < count / 32; b++) {
                const o = b * 34;
                const d = half(o);
                for (let j = 0; j < 32; j++) out[b * 32 + j] = view.getInt8(o + 2 + j) * d;
            }
            return out;
        case GgmlType.Q4_K:
            dequantizeQ4K(bytes, view, out, count);
            return out;
        case GgmlType.Q6_K:
            dequantizeQ6K(bytes, view, out, count);
            return out;
        default:
            throw new UnsupportedTensorTypeError(type, what);
    }
}

/** Q4_K super-block (256 values, 144 bytes): d, dmin (f16), 12 bytes of packed 6-bit scales/mins, 128 bytes of nibbles. */
function dequantizeQ4K(bytes: Uint8Array, view: DataView, out: Float32Array, count: number): void {
    for (let b = 0; b < count / 256; b++) {
        const o = b * 144;
        const d = f16BitsToF32(view.getUint16(o, true));
        const dmin = f16BitsToF32(view.getUint16(o + 2, true));
        const scales = bytes.subarray(o + 4, o + 16);
        const scaleMin = (j: number): [number, number] => {
            if (j < 4) return [scales[j]! & 63, scales[j + 4]! & 63];
            return [(scales[j + 4]! & 0x0f) | ((scales[j - 4]! >> 6) << 4), (scales[j + 4]! >> 4) | ((scales[j]! >> 6) << 4)];
        };
        let q = o + 16;
        let y = b * 256;
        for (let j = 0, is = 0; j < 256; j += 64, is += 2) {
            const [sc1, m1] = scaleMin(is);
            const [sc2, m2] = scaleMin(is + 1);
            const d1 = d * sc1, mm1 = dmin * m1, d2 = d * sc2, mm2 = dmin * m2;
            for (let l = 0; l < 32; l++) out[y++] = d1 * (bytes[q + l]! & 0x0f) - mm1;
            for (let l = 0; l < 32; l++) out[y++] = d2 * (bytes[q + l]! >> 4) - mm2;
            q += 32;
        }
    }
}

/** Q6_K super-block (256 values, 210 bytes): ql[128], qh[64], 16 × i8 scales, d (f16). */
function dequantizeQ6K(bytes: Uint8Array, view: DataView, out: Float32Array, count: number): void {
    for (let b = 0; b < count / 256; b++) {
        const o = b * 210;
        const d = f16BitsToF32(view.getUint16(o + 208, true));
        let ql = o;
        let qh = o + 128;
        let sc = o + 192;
        let y = b * 256;
        for (let n = 0; n < 256; n += 128) {
            for (let l = 0; l < 32; l++) {
                const is = l >> 4;
                const h = bytes[qh + l]!;
                const q1 = ((bytes[ql + l]! & 0x0f) | ((h & 3) << 4)) - 32;
                const q2 = ((bytes[ql + l + 32]! & 0x0f) | (((h >> 2) & 3) << 4)) - 32;
                const q3 = ((bytes[ql + l]! >> 4) | (((h >> 4) & 3) << 4)) - 32;
                const q4 = ((bytes[ql + l + 32]! >> 4) | (((h >> 6) & 3) << 4)) - 32;
                out[y + l] = d * view.getInt8(sc + is) * q1;
                out[y + l + 32] = d * view.getInt8(sc + is + 2) * q2;
                out[y + l + 64] = d * view.getInt8(sc + is + 4) * q3;
                out[y + l + 96] = d * view.getInt8(sc + is + 6) * q4;
            }
            y += 128;
            ql += 64;
            qh += 32;
            sc += 8;
        }
    }
}
