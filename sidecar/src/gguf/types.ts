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

/** ggml tensor types this project writes or sizes, numbered as in `ggml.h`. */
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

/** [elements per block, bytes per block], from ggml's type traits. */
const blockLayout: Record<number, readonly [number, number]> = {
    [GgmlType.F32]: [1, 4],
    [GgmlType.F16]: [1, 2],
    [GgmlType.Q4_0]: [32, 18],
    [GgmlType.Q4_1]: [32, 20],
    [GgmlType.Q5_0]: [32, 22],
    [GgmlType.Q5_1]: [32, 24],
    [GgmlType.Q8_0]: [32, 34],
    [GgmlType.Q2_K]: [256, 84],
    [GgmlType.Q3_K]: [256, 110],
    [GgmlType.Q4_K]: [256, 144],
    [GgmlType.Q5_K]: [256, 176],
    [GgmlType.Q6_K]: [256, 210],
    [GgmlType.I8]: [1, 1],
    [GgmlType.I16]: [1, 2],
    [GgmlType.I32]: [1, 4],
    [GgmlType.I64]: [1, 8],
    [GgmlType.F64]: [1, 8],
    [GgmlType.BF16]: [1, 2]
};

export function ggmlTypeName(type: number): string {
    const entry = Object.entries(GgmlType).find(([, v]) => v === type);
    return entry ? entry[0] : `type ${type}`;
}

/** Bytes taken by a tensor of `dims` (ne0 first, as GGUF stores them), or undefined for unknown types. */
export function ggmlTensorBytes(type: number, dims: readonly number[]): number | undefined {
    const layout = blockLayout[type];
    if (!layout) return undefined;
    const [blockElems, blockBytes] = layout;
    const ne0 = dims[0] ?? 1;
    if (ne0 % blockElems !== 0) return undefined;
    const rows = dims.slice(1).reduce((a, b) => a * b, 1);
    return (ne0 / blockElems) * blockBytes * rows;
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
