// Reads a GGUF file's header, KV metadata and tensor table without loading tensor data, then reads single tensors on
// demand. This is the one structural check every model and adapter load goes through (openModelFile.ts wraps it for
// train, chat, eval, export and the language server), and it makes the checks llama.cpp's gguf_init_from_file makes
// plus one it does not: the tensor table and the data region must agree exactly. llama.cpp only asks that each tensor
// fit inside the file, so a header whose tensor count is one short (the data then starts a table entry too early)
// loads as garbage weights.
//
// Every count and size is checked against the bytes actually left in the file before anything is allocated, and
// sizes are computed as bigints, so a corrupt length can neither allocate gigabytes nor overflow. Any problem becomes
// a GgufFormatError naming the file, the byte offset, the field being read and the kind of problem; a file that
// cannot be opened becomes a GgufAccessError naming the file and the reason.
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import {
    GGUF_DEFAULT_ALIGNMENT,
    GGUF_MAGIC,
    GgufValueType,
    ggmlBlockLayout,
    ggmlTensorBytesExact,
    type GgufFile,
    type GgufTensorInfo,
    type GgufValue
} from "./types";
import { GgufAccessError, GgufFormatError } from "./errors";

export { GgufAccessError, GgufFormatError, type GgufProblem } from "./errors";

// Caps that hold even when the file is big enough: a single string or array this large is a corrupt length field.
const MAX_STRING_BYTES = 64 * 1024 * 1024;
const MAX_ARRAY_ITEMS = 100_000_000;
/** ggml's GGML_MAX_DIMS and GGML_MAX_NAME (the name's bytes must stay below it). */
const MAX_DIMS = 4;
const MAX_TENSOR_NAME_BYTES = 63;
const CHUNK_BYTES = 1 << 20;

/** The fewest bytes one KV pair takes: key length (8) + a 1-byte key + type (4) + a 1-byte value. */
const MIN_KV_BYTES = 14;
/** The fewest bytes one tensor-table entry takes: name length (8) + n_dims (4) + type (4) + offset (8). */
const MIN_TENSOR_INFO_BYTES = 24;

/** Sequential reader over a file descriptor with a refillable window, so headers of any size stream. */
class FileCursor {
    private buf = Buffer.alloc(0);
    private bufStart = 0; // file offset of buf[0]
    pos = 0; // absolute file offset of the next byte
    field = "header";

    constructor(private readonly fd: number, readonly path: string, readonly size: number) {}

    fail(detail: string, problem: ConstructorParameters<typeof GgufFormatError>[3] = "corrupt", at = this.pos): never {
        throw new GgufFormatError(this.path, at, `${detail} (while reading ${this.field})`, problem);
    }

    get left(): number {
        return this.size - this.pos;
    }

    private take(n: number): Buffer {
        if (n > this.left) this.fail(`the file ends at byte ${this.size}, ${n - this.left} byte(s) short; truncated`, "truncated");
        const rel = this.pos - this.bufStart;
        if (rel < 0 || rel + n > this.buf.length) {
            const fresh = Buffer.alloc(Math.min(Math.max(n, CHUNK_BYTES), this.left));
            let got = 0;
            while (got < fresh.length) {
                const read = readSync(this.fd, fresh, got, fresh.length - got, this.pos + got);
                if (read === 0) break;
                got += read;
            }
            if (got < n) this.fail(`only ${got} of ${n} bytes could be read; the file shrank or is truncated`, "truncated");
            this.buf = fresh.subarray(0, got);
            this.bufStart = this.pos;
        }
        const start = this.pos - this.bufStart;
        this.pos += n;
        return this.buf.subarray(start, start + n);
    }

    u8(): number { return this.take(1).readUInt8(0); }
    i8(): number { return this.take(1).readInt8(0); }
    u16(): number { return this.take(2).readUInt16LE(0); }
    i16(): number { return this.take(2).readInt16LE(0); }
    u32(): number { return this.take(4).readUInt32LE(0); }
    i32(): number { return this.take(4).readInt32LE(0); }
    f32(): number { return this.take(4).readFloatLE(0); }
    f64(): number { return this.take(8).readDoubleLE(0); }
    u64(): bigint { return this.take(8).readBigUInt64LE(0); }
    i64(): bigint { return this.take(8).readBigInt64LE(0); }

    /**
     * A u64 count of items of at least `minItemBytes` each: it must fit in the bytes left (so nothing is allocated for
     * a count the file cannot hold) and stay under `max`.
     */
    count(what: string, minItemBytes: number, max: number): number {
        const at = this.pos;
        const v = this.u64();
        const fits = BigInt(Math.floor(this.left / minItemBytes));
        if (v > fits) {
            this.fail(`${what} ${v} exceeds what the ${this.left} bytes left in the file can hold (at most ${fits}); truncated or corrupt`, "does-not-fit", at);
        }
        if (v > BigInt(max)) this.fail(`${what} ${v} exceeds the sanity limit ${max}; corrupt`, "corrupt", at);
        return Number(v);
    }

    /** The raw bytes of a length-prefixed string. */
    stringBytes(): Buffer {
        return this.take(this.count("string length", 1, MAX_STRING_BYTES));
    }

    string(): string {
        return this.stringBytes().toString("utf8");
    }

    /** Moves past `n` length-prefixed strings, reading only their lengths. */
    skipStrings(n: number): void {
        for (let i = 0; i < n; i++) {
            const rel = this.pos - this.bufStart;
            // Fast path: the length is in the window; read it in place instead of through take().
            if (rel >= 0 && rel + 8 <= this.buf.length) {
                const len = this.buf.readBigUInt64LE(rel);
                if (len <= BigInt(Math.min(MAX_STRING_BYTES, this.left - 8))) {
                    this.pos += 8 + Number(len);
                    continue;
                }
            }
            this.skip(this.count("string length", 1, MAX_STRING_BYTES));
        }
    }

    /** Moves past `n` bytes without reading them (the next take refills the window). */
    skip(n: number): void {
        if (n > this.left) this.fail(`the file ends at byte ${this.size}, ${n - this.left} byte(s) short; truncated`, "truncated");
        this.pos += n;
    }
}

const typeNames = Object.fromEntries(Object.entries(GgufValueType).map(([k, v]) => [v, k])) as Record<number, keyof typeof GgufValueType>;

/** Bytes of one item of each value type; strings take at least their 8-byte length. */
const ITEM_BYTES: Readonly<Record<number, number>> = {
    [GgufValueType.u8]: 1, [GgufValueType.i8]: 1, [GgufValueType.bool]: 1, [GgufValueType.u16]: 2, [GgufValueType.i16]: 2,
    [GgufValueType.u32]: 4, [GgufValueType.i32]: 4, [GgufValueType.f32]: 4, [GgufValueType.u64]: 8, [GgufValueType.i64]: 8,
    [GgufValueType.f64]: 8, [GgufValueType.string]: 8
};

function readScalar(c: FileCursor, typeId: number): number | bigint | boolean | string {
    switch (typeId) {
        case GgufValueType.u8: return c.u8();
        case GgufValueType.i8: return c.i8();
        case GgufValueType.u16: return c.u16();
        case GgufValueType.i16: return c.i16();
        case GgufValueType.u32: return c.u32();
        case GgufValueType.i32: return c.i32();
        case GgufValueType.f32: return c.f32();
        case GgufValueType.f64: return c.f64();
        case GgufValueType.u64: return c.u64();
        case GgufValueType.i64: return c.i64();
        // llama.cpp reads a bool as any non-zero byte; so do we, so that both accept the same files.
        case GgufValueType.bool: return c.u8() !== 0;
        case GgufValueType.string: return c.string();
        default: return c.fail(`unknown value type ${typeId}`);
    }
}

/** Reads a value, or returns undefined after moving past an array of more than `skipArraysOver` items. */
function readValue(c: FileCursor, skipArraysOver = Infinity): GgufValue | undefined {
    const typeAt = c.pos;
    const typeId = c.u32();
    if (typeId !== GgufValueType.array) {
        const name = typeNames[typeId];
        if (name === undefined) c.fail(`unknown value type ${typeId} (0..12 exist)`, "corrupt", typeAt);
        return { type: name, value: readScalar(c, typeId) } as GgufValue;
    }
    const itemAt = c.pos;
    const itemTypeId = c.u32();
    const itemType = typeNames[itemTypeId];
    if (itemType === undefined) c.fail(`unknown array item type ${itemTypeId} (0..12 exist)`, "corrupt", itemAt);
    if (itemType === "array") c.fail("nested arrays are not supported", "corrupt", itemAt);
    const itemBytes = ITEM_BYTES[itemTypeId]!;
    const n = c.count("array length", itemBytes, MAX_ARRAY_ITEMS);
    if (n > skipArraysOver) {
        if (itemTypeId === GgufValueType.string) c.skipStrings(n);
        else c.skip(n * itemBytes);
        return undefined;
    }
    const items: unknown[] = new Array(n);
    for (let i = 0; i < n; i++) items[i] = readScalar(c, itemTypeId);
    return { type: "array", itemType, value: items } as GgufValue;
}

export interface ReadGgufOptions {
    /**
     * Leave out (absent from `kv`) arrays of more than this many items: a tokenizer's tokens, scores and merges are most
     * of a model's header (1.4 s to decode Gemma's 262k tokens), and questions such as "which architecture, which
     * tensors" (the language server, the Start Training wizard) need none of them.
     */
    skipArraysOver?: number;
}

/** Opens `path` for reading, or throws a GgufAccessError that says why in words (and the errno code). */
function openForReading(path: string): { fd: number; size: number } {
    let fd: number;
    try {
        fd = openSync(path, "r");
    } catch (error) {
        throw GgufAccessError.from(path, error);
    }
    try {
        const stat = fstatSync(fd);
        if (stat.isDirectory()) throw new GgufAccessError(path, "EISDIR", "is a folder, not a GGUF file");
        // A device or a pipe has no size to check the tensor table against, and /dev/zero never ends.
        if (!stat.isFile()) throw new GgufAccessError(path, "ENOTREG", "is not a regular file (a device, pipe or socket); give a GGUF file");
        return { fd, size: stat.size };
    } catch (error) {
        closeSync(fd);
        throw error instanceof GgufAccessError ? error : GgufAccessError.from(path, error);
    }
}

const alignUp = (n: bigint, alignment: bigint): bigint => ((n + alignment - 1n) / alignment) * alignment;

/** Reads everything but the tensor data. Throws GgufAccessError or GgufFormatError (see errors.ts). */
export function readGguf(path: string, options: ReadGgufOptions = {}): GgufFile {
    const { fd, size } = openForReading(path);
    try {
        const c: FileCursor = new FileCursor(fd, path, size);
        c.field = "magic";
        if (size < 4) c.fail(`the file has ${size} byte(s); a GGUF file starts with the 4 bytes "GGUF"`, "truncated");
        const magic = c.u32();
        if (magic !== GGUF_MAGIC) c.fail(`bad magic 0x${magic.toString(16).padStart(8, "0")}, expected 0x${GGUF_MAGIC.toString(16)} ("GGUF"); not a GGUF file`, "bad-magic", 0);
        c.field = "version";
        const version = c.u32();
        if (version !== 2 && version !== 3) c.fail(`unsupported GGUF version ${version} (versions 2 and 3 exist)`, "unsupported-version", 4);
        c.field = "tensor count";
        const nTensors = c.count("tensor count", MIN_TENSOR_INFO_BYTES, Number.MAX_SAFE_INTEGER);
        c.field = "KV count";
        const nKv = c.count("KV count", MIN_KV_BYTES, Number.MAX_SAFE_INTEGER);

        const kv = new Map<string, GgufValue>();
        const seen = new Set<string>();
        for (let i = 0; i < nKv; i++) {
            c.field = `key #${i}`;
            const keyAt = c.pos;
            const key = c.string();
            if (key === "") c.fail("empty key", "corrupt", keyAt);
            if (seen.has(key)) c.fail(`duplicate key '${key}'`, "corrupt", keyAt);
            seen.add(key);
            c.field = `value of '${key}'`;
            const value = readValue(c, options.skipArraysOver);
            if (value !== undefined) kv.set(key, value);
        }

        const alignmentKv = kv.get("general.alignment");
        let alignment = GGUF_DEFAULT_ALIGNMENT;
        if (alignmentKv !== undefined || seen.has("general.alignment")) {
            const a = alignmentKv?.type === "u32" ? alignmentKv.value : 0;
            if (a === 0 || (a & (a - 1)) !== 0) c.fail("general.alignment must be a u32 power of two");
            alignment = a;
        }

        const tensors: GgufTensorInfo[] = [];
        const sizes: bigint[] = [];
        const offsetAt: number[] = [];
        const names = new Set<string>();
        for (let i = 0; i < nTensors; i++) {
            c.field = `tensor #${i} name`;
            const nameAt = c.pos;
            const nameBytes = c.stringBytes();
            const name = nameBytes.toString("utf8");
            if (nameBytes.length > MAX_TENSOR_NAME_BYTES) c.fail(`tensor name of ${nameBytes.length} bytes; ggml allows at most ${MAX_TENSOR_NAME_BYTES}`, "corrupt", nameAt);
            if (names.has(name)) c.fail(`duplicate tensor name '${name}'`, "corrupt", nameAt);
            names.add(name);
            c.field = `tensor '${name}'`;
            const dimsAt = c.pos;
            const nDims = c.u32();
            if (nDims > MAX_DIMS) c.fail(`${nDims} dimensions (ggml allows 0..${MAX_DIMS})`, "corrupt", dimsAt);
            const dims: number[] = [];
            for (let d = 0; d < nDims; d++) {
                const at = c.pos;
                const ne = c.u64();
                if (ne > BigInt(Number.MAX_SAFE_INTEGER)) c.fail(`dimension ${d} is ${ne}, larger than any tensor can be`, "does-not-fit", at);
                dims.push(Number(ne));
            }
            const typeAt = c.pos;
            const type = c.u32();
            const layout = ggmlBlockLayout(type);
            if (!layout) c.fail(`unknown ggml type ${type}`, "corrupt", typeAt);
            const bytes = ggmlTensorBytesExact(type, dims);
            if (bytes === undefined) c.fail(`its ${dims[0] ?? 1} elements per row are not a whole number of type ${type}'s ${layout[0]}-element blocks`, "corrupt", dimsAt);
            offsetAt.push(c.pos);
            const offset = c.u64();
            if (bytes > BigInt(size)) c.fail(`its shape [${dims.join(", ")}] needs ${bytes} bytes, more than the whole file has (${size} bytes); truncated or corrupt`, "does-not-fit", dimsAt);
            if (offset > BigInt(size)) c.fail(`its data offset ${offset} lies beyond the end of the file (${size} bytes); truncated or corrupt`, "does-not-fit", offsetAt[i]);
            sizes.push(bytes);
            tensors.push({ name, dims, type, offset: Number(offset), byteLength: Number(bytes) });
        }

        const headerEnd = BigInt(c.pos);
        const align = BigInt(alignment);
        const dataOffset = nTensors > 0 ? alignUp(headerEnd, align) : headerEnd;
        checkDataRegion(path, size, dataOffset, align, tensors, sizes, offsetAt);
        return { path, version, kv, tensors, alignment, dataOffset: Number(dataOffset), fileSize: size };
    } finally {
        closeSync(fd);
    }
}

/**
 * The tensor table and the data region must agree exactly: tensor i starts where tensor i−1's data ends, padded to
 * the alignment (llama.cpp's own rule), every tensor lies inside the file, and the file ends with the last tensor's
 * data (its padding optional). Bytes that no tensor accounts for mean the table and the data disagree, for example a
 * tensor count one short, which would make every tensor read from the wrong place.
 */
function checkDataRegion(path: string, size: number, dataOffset: bigint, align: bigint, tensors: GgufTensorInfo[], sizes: bigint[], offsetAt: number[]): void {
    const fileSize = BigInt(size);
    let expected = 0n;
    for (let i = 0; i < tensors.length; i++) {
        const t = tensors[i]!;
        const bytes = sizes[i]!;
        if (BigInt(t.offset) !== expected) {
            throw new GgufFormatError(path, offsetAt[i]!, `tensor '${t.name}' says its data starts at data byte ${t.offset}, but the tensors before it end at data byte ${expected} (each is padded to ${align} bytes); the tensor table and the data region disagree`, "data-mismatch");
        }
        const start = dataOffset + expected;
        const end = start + bytes;
        if (end > fileSize) {
            throw new GgufFormatError(path, Number(start < fileSize ? start : fileSize), `tensor '${t.name}' needs ${bytes} bytes at bytes ${start}..${end} but the file ends at byte ${size}; truncated`, "truncated");
        }
        expected += alignUp(bytes, align);
    }
    const paddedEnd = tensors.length > 0 ? dataOffset + expected : alignUp(dataOffset, align);
    if (fileSize > paddedEnd) {
        const detail = tensors.length > 0
            ? `the tensor table describes ${tensors.length} tensor(s) whose data ends at byte ${paddedEnd}, but the file goes on to byte ${size}: ${fileSize - paddedEnd} byte(s) that no tensor accounts for`
            : `the file has no tensors, but ${fileSize - paddedEnd} byte(s) follow its metadata`;
        throw new GgufFormatError(path, Number(paddedEnd), `${detail}; the tensor table and the data region disagree (is the tensor count right?)`, "data-mismatch");
    }
}

/** Raw bytes of one tensor, exactly as stored. */
export function readTensorBytes(file: GgufFile, name: string): Uint8Array {
    const t = file.tensors.find((x) => x.name === name);
    if (!t) throw new Error(`${file.path}: no tensor named '${name}'`);
    if (t.byteLength === undefined) throw new Error(`${file.path}: tensor '${name}' has a type this reader cannot size (${t.type})`);
    const out = Buffer.alloc(t.byteLength);
    let fd: number;
    try {
        fd = openSync(file.path, "r");
    } catch (error) {
        throw GgufAccessError.from(file.path, error);
    }
    try {
        let got = 0;
        while (got < out.length) {
            const read = readSync(fd, out, got, out.length - got, file.dataOffset + t.offset + got);
            if (read === 0) break;
            got += read;
        }
        if (got !== out.length) throw new GgufFormatError(file.path, file.dataOffset + t.offset + got, `tensor '${name}' truncated: the file shrank since it was opened`, "truncated");
    } finally {
        closeSync(fd);
    }
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** A tensor's data as F32, for F32 tensors only (copied so it is aligned). */
export function readTensorF32(file: GgufFile, name: string): Float32Array {
    const t = file.tensors.find((x) => x.name === name);
    if (t && t.type !== 0) throw new Error(`${file.path}: tensor '${name}' is not F32 (type ${t.type})`);
    const bytes = readTensorBytes(file, name);
    return new Float32Array(bytes.slice().buffer);
}

/** Typed KV accessors with errors that name the file and key. */
export function kvString(file: GgufFile, key: string): string {
    const v = file.kv.get(key);
    if (!v || v.type !== "string") throw new Error(`${file.path}: key '${key}' is missing or not a string`);
    return v.value;
}

export function kvNumber(file: GgufFile, key: string): number {
    const v = file.kv.get(key);
    if (!v) throw new Error(`${file.path}: key '${key}' is missing`);
    if (v.type === "u64" || v.type === "i64") return Number(v.value);
    if (typeof v.value !== "number") throw new Error(`${file.path}: key '${key}' is not a number`);
    return v.value;
}
