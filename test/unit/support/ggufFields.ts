// Test oracle for the GGUF reader tests: an independent walk of a GGUF header that records where each field lies
// (counts, string lengths, type codes, dimensions, data offsets) so mutations can aim at them, and that computes the
// data layout a well-formed file must have. Deliberately small and separate from sidecar/src/gguf/reader.ts: it walks
// only files it is given as valid, and a bug shared with the reader would have to be written twice.

export type FieldKind = "tensor-count" | "kv-count" | "string-length" | "value-type" | "array-item-type" | "array-length" | "n-dims" | "dimension" | "tensor-type" | "tensor-offset";

export interface Field {
    at: number;
    /** 4 or 8 bytes, little-endian unsigned. */
    size: 4 | 8;
    kind: FieldKind;
}

export interface TensorLayout {
    /** Bytes of the tensor's data (unpadded). */
    bytes: bigint;
    offset: bigint;
}

export interface HeaderWalk {
    fields: Field[];
    /** File offset just past the tensor table. */
    headerEnd: number;
    alignment: number;
    tensors: TensorLayout[];
}

const SCALAR_BYTES: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
/** [block elements, block bytes] per ggml type, as printed by ggml_blck_size / ggml_type_size of the engine's ggml. */
const LAYOUT: Record<number, [number, number]> = {
    0: [1, 4], 1: [1, 2], 2: [32, 18], 3: [32, 20], 6: [32, 22], 7: [32, 24], 8: [32, 34], 9: [32, 36], 10: [256, 84],
    11: [256, 110], 12: [256, 144], 13: [256, 176], 14: [256, 210], 15: [256, 292], 16: [256, 66], 17: [256, 74],
    18: [256, 98], 19: [256, 50], 20: [32, 18], 21: [256, 110], 22: [256, 82], 23: [256, 136], 24: [1, 1], 25: [1, 2],
    26: [1, 4], 27: [1, 8], 28: [1, 8], 29: [256, 56], 30: [1, 2], 34: [256, 54], 35: [256, 66], 39: [32, 17],
    40: [64, 36], 41: [128, 18], 42: [64, 18]
};

export function walkHeader(bytes: Buffer): HeaderWalk {
    const fields: Field[] = [];
    let pos = 8;
    const u32 = (kind: FieldKind | undefined): number => {
        if (kind) fields.push({ at: pos, size: 4, kind });
        const v = bytes.readUInt32LE(pos);
        pos += 4;
        return v;
    };
    const u64 = (kind: FieldKind | undefined): bigint => {
        if (kind) fields.push({ at: pos, size: 8, kind });
        const v = bytes.readBigUInt64LE(pos);
        pos += 8;
        return v;
    };
    const str = (): string => {
        const n = Number(u64("string-length"));
        const s = bytes.subarray(pos, pos + n).toString("utf8");
        pos += n;
        return s;
    };
    const nTensors = Number(u64("tensor-count"));
    const nKv = Number(u64("kv-count"));
    let alignment = 32;
    for (let i = 0; i < nKv; i++) {
        const key = str();
        const type = u32("value-type");
        if (type === 9) {
            const item = u32("array-item-type");
            const n = Number(u64("array-length"));
            for (let j = 0; j < n; j++) {
                if (item === 8) str();
                else pos += SCALAR_BYTES[item]!;
            }
        } else if (type === 8) {
            str();
        } else {
            if (key === "general.alignment") alignment = bytes.readUInt32LE(pos);
            pos += SCALAR_BYTES[type]!;
        }
    }
    const tensors: TensorLayout[] = [];
    for (let i = 0; i < nTensors; i++) {
        str();
        const nDims = u32("n-dims");
        const dims: bigint[] = [];
        for (let d = 0; d < nDims; d++) dims.push(u64("dimension"));
        const type = u32("tensor-type");
        const [blockElems, blockBytes] = LAYOUT[type]!;
        const elements = dims.reduce((a, b) => a * b, 1n);
        tensors.push({ bytes: (elements / BigInt(blockElems)) * BigInt(blockBytes), offset: u64("tensor-offset") });
    }
    return { fields, headerEnd: pos, alignment, tensors };
}

const alignUp = (n: bigint, a: bigint): bigint => ((n + a - 1n) / a) * a;

/**
 * Why a header the reader accepted cannot be right, or undefined when the data region agrees with the tensor table
 * exactly: data starts at the aligned end of the table, tensors follow one another padded to the alignment, and the
 * file ends with the last tensor (its padding optional).
 */
export function layoutViolation(walk: HeaderWalk, fileSize: number): string | undefined {
    const align = BigInt(walk.alignment);
    const dataStart = walk.tensors.length > 0 ? alignUp(BigInt(walk.headerEnd), align) : BigInt(walk.headerEnd);
    let expected = 0n;
    let lastEnd = dataStart;
    for (const [i, t] of walk.tensors.entries()) {
        if (t.offset !== expected) return `tensor #${i} at data offset ${t.offset}, expected ${expected}`;
        lastEnd = dataStart + expected + t.bytes;
        if (lastEnd > BigInt(fileSize)) return `tensor #${i} ends at ${lastEnd}, past the file's ${fileSize} bytes`;
        expected += alignUp(t.bytes, align);
    }
    const paddedEnd = walk.tensors.length > 0 ? dataStart + expected : alignUp(dataStart, align);
    if (BigInt(fileSize) > paddedEnd) return `the file has ${fileSize} bytes but its tensors end at ${paddedEnd}`;
    return undefined;
}
