// GGUF data model shared by the reader and the writer. Pure types and tables: no I/O.
// Format reference: llama.cpp `ggml/include/gguf.h` and `docs/gguf.md` (version 3, little-endian).

/** KV value types, numbered as on disk. */
export const GgufValueType = {
    u8: 0,
    i8: 1,
    u16: 2,
    i16: 3,
    u32: 4,
    i32: 5,
    f32: 6,
    bool: 7,
    string: 8,
    array: 9,
    u64: 10,
    i64: 11,
    f64: 12
} as const;
export type GgufScalarTypeName = Exclude<keyof typeof GgufValueType, "array">;

export type GgufNumberTypeName = "u8" | "i8" | "u16" | "i16" | "u32" | "i32" | "f32" | "f64";
export type GgufBigTypeName = "u64" | "i64";

/** One KV value. Its on-disk type travels with it so a read-then-write round trip is exact. */
export type GgufValue =
    | { type: GgufNumberTypeName; value: number }
    | { type: GgufBigTypeName; value: bigint }
    | { type: "bool"; value: boolean }
    | { type: "string"; value: string }
    | { type: "array"; itemType: GgufNumberTypeName; value: number[] }
    | { type: "array"; itemType: GgufBigTypeName; value: bigint[] }
    | { type: "array"; itemType: "bool"; value: boolean[] }
    | { type: "array"; itemType: "string"; value: string[] };

/** ggml tensor types this project writes or names, numbered as in `ggml.h`. */
export const GgmlType = {
    F32: 0,
    F16: 1,
    Q4_0: 2,
    Q4_1: 3,
    Q5_0: 6,
    Q5_1: 7,
    Q8_0: 8,
    Q2_K: 10,
    Q3_K: 11,
    Q4_K: 12,
    Q5_K: 13,
    Q6_K: 14,
    I8: 24,
    I16: 25,
    I32: 26,
    I64: 27,
    F64: 28,
    BF16: 30
} as const;
export type GgmlTypeName = keyof typeof GgmlType;

/**
 * [elements per block, bytes per block] of every type a GGUF file may hold, from ggml's type traits (ggml_blck_size,
 * ggml_type_size) of the llama.cpp the engine builds. Codes missing here (4, 5, 31–33, 36–38: removed from ggml) are
 * refused by llama.cpp's loader, so the reader refuses them too.
 */
const blockLayout: Readonly<Record<number, readonly [number, number]>> = {
    0: [1, 4], 1: [1, 2], 2: [32, 18], 3: [32, 20], 6: [32, 22], 7: [32, 24], 8: [32, 34], 9: [32, 36],
    10: [256, 84], 11: [256, 110], 12: [256, 144], 13: [256, 176], 14: [256, 210], 15: [256, 292],
    16: [256, 66], 17: [256, 74], 18: [256, 98], 19: [256, 50], 20: [32, 18], 21: [256, 110], 22: [256, 82], 23: [256, 136],
    24: [1, 1], 25: [1, 2], 26: [1, 4], 27: [1, 8], 28: [1, 8], 29: [256, 56], 30: [1, 2],
    34: [256, 54], 35: [256, 66], 39: [32, 17], 40: [64, 36], 41: [128, 18], 42: [64, 18]
};

/** The block layout of a ggml type code, or undefined for a code ggml does not (or no longer) know. */
export function ggmlBlockLayout(type: number): readonly [number, number] | undefined {
    return Object.hasOwn(blockLayout, type) ? blockLayout[type] : undefined;
}

export function ggmlTypeName(type: number): string {
    const entry = Object.entries(GgmlType).find(([, v]) => v === type);
    return entry ? entry[0] : `type ${type}`;
}

/** Bytes taken by a tensor of `dims` (ne0 first, as GGUF stores them), or undefined for unknown types. */
export function ggmlTensorBytes(type: number, dims: readonly number[]): number | undefined {
    const bytes = ggmlTensorBytesExact(type, dims);
    return bytes === undefined || bytes > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(bytes);
}

/**
 * The same size as a bigint, with no rounding however large the dims (a corrupt header may claim 2^62 elements):
 * the reader compares it with the file size before trusting it. Undefined for an unknown type or a first dimension
 * that is not a whole number of blocks.
 */
export function ggmlTensorBytesExact(type: number, dims: readonly number[]): bigint | undefined {
    const layout = ggmlBlockLayout(type);
    if (!layout) return undefined;
    const [blockElems, blockBytes] = layout;
    const ne0 = dims[0] ?? 1;
    if (ne0 % blockElems !== 0) return undefined;
    let bytes = BigInt(ne0 / blockElems) * BigInt(blockBytes);
    for (const d of dims.slice(1)) bytes *= BigInt(d);
    return bytes;
}

export interface GgufTensorInfo {
    name: string;
    /** ne0 first (the contiguous dimension), as in ggml and on disk. */
    dims: number[];
    type: number;
    /** Offset of the data relative to the start of the data section. */
    offset: number;
    /** Size in bytes, computed from type and dims; undefined for types this reader cannot size. */
    byteLength: number | undefined;
}

export interface GgufFile {
    path: string;
    version: number;
    kv: Map<string, GgufValue>;
    tensors: GgufTensorInfo[];
    alignment: number;
    /** Absolute file offset where tensor data begins. */
    dataOffset: number;
    fileSize: number;
}

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
export const GGUF_DEFAULT_ALIGNMENT = 32;
