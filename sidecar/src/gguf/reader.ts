// Reads a GGUF file's header, KV metadata and tensor table without loading tensor data, then reads
// single tensors on demand. Any structural problem becomes a GgufFormatError naming the file, the byte
// offset and the field being read, so a truncated download is told apart from a wrong file type.
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import {
    GGUF_DEFAULT_ALIGNMENT,
    GGUF_MAGIC,
    GgufValueType,
    ggmlTensorBytes,
    type GgufFile,
    type GgufTensorInfo,
    type GgufValue
} from "./types";

export class GgufFormatError extends Error {
    constructor(readonly path: string, readonly offset: number, detail: string) {
        super(`${path}: not a valid GGUF file (byte ${offset}): ${detail}`);
        this.name = "GgufFormatError";
    }
}

// Sanity caps: a corrupt length field must fail fast instead of allocating gigabytes.
const MAX_STRING_BYTES = 64 * 1024 * 1024;
const MAX_ARRAY_ITEMS = 100_000_000;
const MAX_TENSORS = 1_000_000;
const MAX_DIMS = 4;
const CHUNK_BYTES = 1 << 20;

/** Sequential reader over a file descriptor with a refillable window, so headers of any size stream. */
class FileCursor {
    private buf = Buffer.alloc(0);
    private bufStart = 0; // file offset of buf[0]
    pos = 0; // absolute file offset of the next byte
    field = "header";

    constructor(private readonly fd: number, readonly path: string, readonly size: number) {}

    fail(detail: string): never {
        throw new GgufFormatError(this.path, this.pos, `${detail} (while reading ${this.field})`);
    }

    private take(n: number): Buffer {
        if (this.pos + n > this.size) this.fail(`file ends after ${this.size} bytes; truncated`);
        const rel = this.pos - this.bufStart;
        if (rel < 0 || rel + n > this.buf.length) {
            const want = Math.max(n, CHUNK_BYTES);
            const fresh = Buffer.alloc(Math.min(want, this.size - this.pos));
            const got = readSync(this.fd, fresh, 0, fresh.length, this.pos);
            if (got < n) this.fail("short read; file truncated");
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

    /** A u64 that must fit a JS number and stay under `max`. */
    count(what: string, max: number): number {
        const v = this.u64();
        if (v > BigInt(max)) this.fail(`${what} ${v} exceeds the sanity limit ${max}; corrupt file`);
        return Number(v);
    }

    string(): string {
        const len = this.count("string length", MAX_STRING_BYTES);
        return this.take(len).toString("utf8");
    }
}

const typeNames = Object.fromEntries(Object.entries(GgufValueType).map(([k, v]) => [v, k])) as Record<number, keyof typeof GgufValueType>;

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
        case GgufValueType.bool: {
            const b = c.u8();
            if (b > 1) c.fail(`bool value ${b} is neither 0 nor 1`);
            return b === 1;
        }
        case GgufValueType.string: return c.string();
        default: return c.fail(`unknown value type ${typeId}`);
    }
}

function readValue(c: FileCursor): GgufValue {
    const typeId = c.u32();
    if (typeId !== GgufValueType.array) {
        const name = typeNames[typeId];
        if (name === undefined) c.fail(`unknown value type ${typeId}`);
        return { type: name, value: readScalar(c, typeId) } as GgufValue;
    }
    const itemTypeId = c.u32();
    const itemType = typeNames[itemTypeId];
    if (itemType === undefined) c.fail(`unknown array item type ${itemTypeId}`);
    if (itemType === "array") c.fail("nested arrays are not supported");
    const n = c.count("array length", MAX_ARRAY_ITEMS);
    const items: unknown[] = new Array(n);
    for (let i = 0; i < n; i++) items[i] = readScalar(c, itemTypeId);
    return { type: "array", itemType, value: items } as GgufValue;
}

/** Reads everything but the tensor data. Throws GgufFormatError on any malformed or truncated part. */
export function readGguf(path: string): GgufFile {
    const fd = openSync(path, "r");
    try {
        const size = fstatSync(fd).size;
        const c = new FileCursor(fd, path, size);
        c.field = "magic";
        const magic = c.u32();
        if (magic !== GGUF_MAGIC) c.fail(`magic is 0x${magic.toString(16)}, expected 0x${GGUF_MAGIC.toString(16)} ("GGUF")`);
        c.field = "version";
        const version = c.u32();
        if (version !== 2 && version !== 3) c.fail(`unsupported GGUF version ${version} (this reader handles 2 and 3)`);
        c.field = "tensor count";
        const nTensors = c.count("tensor count", MAX_TENSORS);
        c.field = "KV count";
        const nKv = c.count("KV count", MAX_TENSORS);

        const kv = new Map<string, GgufValue>();
        for (let i = 0; i < nKv; i++) {
            c.field = `key #${i}`;
            const key = c.string();
            c.field = `value of '${key}'`;
            if (kv.has(key)) c.fail(`duplicate key '${key}'`);
            kv.set(key, readValue(c));
        }

        const alignmentKv = kv.get("general.alignment");
        let alignment = GGUF_DEFAULT_ALIGNMENT;
        if (alignmentKv !== undefined) {
            const a = alignmentKv.type === "u32" ? alignmentKv.value : 0;
            if (a === 0 || (a & (a - 1)) !== 0) c.fail("general.alignment must be a u32 power of two");
            alignment = a;
        }

        const tensors: GgufTensorInfo[] = [];
        for (let i = 0; i < nTensors; i++) {
            c.field = `tensor #${i} name`;
            const name = c.string();
            c.field = `tensor '${name}'`;
            const nDims = c.u32();
            if (nDims < 1 || nDims > MAX_DIMS) c.fail(`has ${nDims} dimensions (1..${MAX_DIMS} allowed)`);
            const dims: number[] = [];
            for (let d = 0; d < nDims; d++) dims.push(c.count("dimension", Number.MAX_SAFE_INTEGER));
            const type = c.u32();
            const offset = c.count("offset", Number.MAX_SAFE_INTEGER);
            if (offset % alignment !== 0) c.fail(`data offset ${offset} is not a multiple of the alignment ${alignment}`);
            tensors.push({ name, dims, type, offset, byteLength: ggmlTensorBytes(type, dims) });
        }

        const dataOffset = Math.ceil(c.pos / alignment) * alignment;
        for (const t of tensors) {
            if (t.byteLength !== undefined && dataOffset + t.offset + t.byteLength > size) {
                throw new GgufFormatError(path, dataOffset + t.offset, `tensor '${t.name}' needs ${t.byteLength} bytes but the file ends at ${size}; truncated`);
            }
        }
        return { path, version, kv, tensors, alignment, dataOffset, fileSize: size };
    } finally {
        closeSync(fd);
    }
}

/** Raw bytes of one tensor, exactly as stored. */
export function readTensorBytes(file: GgufFile, name: string): Uint8Array {
    const t = file.tensors.find((x) => x.name === name);
    if (!t) throw new Error(`${file.path}: no tensor named '${name}'`);
    if (t.byteLength === undefined) throw new Error(`${file.path}: tensor '${name}' has a type this reader cannot size (${t.type})`);
    const out = Buffer.alloc(t.byteLength);
    const fd = openSync(file.path, "r");
    try {
        const got = readSync(fd, out, 0, out.length, file.dataOffset + t.offset);
        if (got !== out.length) throw new GgufFormatError(file.path, file.dataOffset + t.offset, `tensor '${name}' truncated`);
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
