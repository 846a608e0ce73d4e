// Writes a GGUF v3 file: KV metadata, tensor table, aligned tensor data. Tensor data may be given
// lazily so that large models are produced one tensor at a time. The file appears atomically: it is
// written to a temporary sibling, flushed, then renamed over the target.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GgufValueType, ggmlTensorBytes, ggmlTypeName, type GgufValue } from "./types";

export interface GgufTensorToWrite {
    name: string;
    /** ne0 first, as ggml counts. */
    dims: number[];
    type: number;
    /** Raw bytes in the tensor's ggml type; a function is called once, when the data is written. */
    data: Uint8Array | (() => Uint8Array);
}

export interface GgufToWrite {
    /** Keys in the order they will be written. `general.alignment` is added when alignment is not 32. */
    kv: Iterable<[string, GgufValue]>;
    tensors: GgufTensorToWrite[];
    alignment?: number;
}

/** Grows a byte buffer for the header. */
class ByteSink {
    private chunks: Buffer[] = [];
    length = 0;

    push(b: Buffer): void {
        this.chunks.push(b);
        this.length += b.length;
    }
    u32(v: number): void { const b = Buffer.alloc(4); b.writeUInt32LE(v); this.push(b); }
    u64(v: number | bigint): void { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); this.push(b); }
    string(s: string): void { const bytes = Buffer.from(s, "utf8"); this.u64(bytes.length); this.push(bytes); }
    toBuffer(): Buffer { return Buffer.concat(this.chunks, this.length); }
}

function writeScalar(sink: ByteSink, type: string, v: unknown, key: string): void {
    const b8 = Buffer.alloc(8);
    const bad = (): never => { throw new Error(`GGUF writer: key '${key}': value ${String(v)} does not fit type ${type}`); };
    switch (type) {
        case "u8": b8.writeUInt8(v as number); sink.push(b8.subarray(0, 1)); return;
        case "i8": b8.writeInt8(v as number); sink.push(b8.subarray(0, 1)); return;
        case "u16": b8.writeUInt16LE(v as number); sink.push(b8.subarray(0, 2)); return;
        case "i16": b8.writeInt16LE(v as number); sink.push(b8.subarray(0, 2)); return;
        case "u32": b8.writeUInt32LE(v as number); sink.push(b8.subarray(0, 4)); return;
        case "i32": b8.writeInt32LE(v as number); sink.push(b8.subarray(0, 4)); return;
        case "f32": b8.writeFloatLE(v as number); sink.push(b8.subarray(0, 4)); return;
        case "f64": b8.writeDoubleLE(v as number); sink.push(b8); return;
        case "u64": b8.writeBigUInt64LE(v as bigint); sink.push(b8); return;
        case "i64": b8.writeBigInt64LE(v as bigint); sink.push(b8); return;
        case "bool": if (typeof v !== "boolean") bad(); b8.writeUInt8(v ? 1 : 0); sink.push(b8.subarray(0, 1)); return;
        case "string": if (typeof v !== "string") bad(); sink.string(v as string); return;
        default: throw new Error(`GGUF writer: key '${key}': unknown type ${type}`);
    }
}

function typeId(name: string, key: string): number {
    const id = (GgufValueType as Record<string, number>)[name];
    if (id === undefined) throw new Error(`GGUF writer: key '${key}': unknown type ${name}`);
    return id;
}

function encodeHeader(doc: GgufToWrite, alignment: number, offsets: number[]): Buffer {
    const kv = [...doc.kv].filter(([k]) => k !== "general.alignment");
    if (alignment !== GGUF_DEFAULT_ALIGNMENT) kv.push(["general.alignment", { type: "u32", value: alignment }]);
    const sink = new ByteSink();
    sink.u32(GGUF_MAGIC);
    sink.u32(3);
    sink.u64(doc.tensors.length);
    sink.u64(kv.length);
    for (const [key, value] of kv) {
        sink.string(key);
        sink.u32(typeId(value.type, key));
        if (value.type === "array") {
            sink.u32(typeId(value.itemType, key));
            sink.u64(value.value.length);
            for (const item of value.value) writeScalar(sink, value.itemType, item, key);
        } else {
            writeScalar(sink, value.type, value.value, key);
        }
    }
    doc.tensors.forEach((t, i) => {
        sink.string(t.name);
        sink.u32(t.dims.length);
        for (const d of t.dims) sink.u64(d);
        sink.u32(t.type);
        sink.u64(offsets[i]!);
    });
    return sink.toBuffer();
}

/** Writes `doc` to `path` atomically. */
export function writeGguf(path: string, doc: GgufToWrite): void {
    const alignment = doc.alignment ?? GGUF_DEFAULT_ALIGNMENT;
    if (alignment <= 0 || (alignment & (alignment - 1)) !== 0) throw new Error(`GGUF writer: alignment ${alignment} is not a power of two`);
    const names = new Set<string>();
    const sizes = doc.tensors.map((t) => {
        if (names.has(t.name)) throw new Error(`GGUF writer: duplicate tensor name '${t.name}'`);
        names.add(t.name);
        const size = ggmlTensorBytes(t.type, t.dims);
        if (size === undefined) throw new Error(`GGUF writer: tensor '${t.name}': cannot size ${ggmlTypeName(t.type)} with dims [${t.dims.join(", ")}]`);
        return size;
    });
    const offsets: number[] = [];
    let cursor = 0;
    for (const size of sizes) {
        offsets.push(cursor);
        cursor += Math.ceil(size / alignment) * alignment;
    }
    const header = encodeHeader(doc, alignment, offsets);

    const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
    const fd = openSync(tmp, "w");
    try {
        let pos = 0;
        const put = (b: Uint8Array): void => {
            let done = 0;
            while (done < b.length) done += writeSync(fd, b, done, b.length - done, pos + done);
            pos += b.length;
        };
        put(header);
        // The data section starts aligned; a file without tensors ends right after its header, as
        // llama.cpp's and gguf-py's writers do.
        if (doc.tensors.length > 0) put(new Uint8Array(Math.ceil(pos / alignment) * alignment - pos));
        doc.tensors.forEach((t, i) => {
            const data = typeof t.data === "function" ? t.data() : t.data;
            if (data.length !== sizes[i]) throw new Error(`GGUF writer: tensor '${t.name}' has ${data.length} bytes, expected ${sizes[i]} for ${ggmlTypeName(t.type)} [${t.dims.join(", ")}]`);
            put(data);
            put(new Uint8Array(Math.ceil(pos / alignment) * alignment - pos));
        });
        fsyncSync(fd);
        closeSync(fd);
        renameSync(tmp, path);
    } catch (err) {
        try { closeSync(fd); } catch { /* already closed */ }
        rmSync(tmp, { force: true });
        throw err;
    }
}

/** View helpers for tensor data. */
export function f32Bytes(a: Float32Array): Uint8Array {
    return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}
