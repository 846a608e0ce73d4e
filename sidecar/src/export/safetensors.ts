// A minimal safetensors writer (https://github.com/huggingface/safetensors, "Format"): an 8-byte little-endian
// header length N, N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {…}}
// padded with spaces so the data starts 8-byte aligned, then the tensors' little-endian bytes back to back.
import { encodeBF16, encodeF16, f32Bytes } from "../gguf";
import { writeFileAtomic } from "../training/atomicFile";

export type SafetensorsDtype = "F32" | "F16" | "BF16";

const ENCODERS: Record<SafetensorsDtype, (data: Float32Array) => Uint8Array> = { F32: f32Bytes, F16: encodeF16, BF16: encodeBF16 };

export interface SafetensorsTensor {
    name: string;
    /** Row-major (PyTorch order). */
    shape: number[];
    data: Float32Array;
}

/** The whole file as bytes; tensors are stored in the order given, in `dtype`. */
export function encodeSafetensors(tensors: readonly SafetensorsTensor[], dtype: SafetensorsDtype, metadata: Record<string, string> = {}): Uint8Array {
    const header: Record<string, unknown> = { __metadata__: metadata };
    const blobs: Uint8Array[] = [];
    let offset = 0;
    for (const t of tensors) {
        const count = t.shape.reduce((a, b) => a * b, 1);
        if (count !== t.data.length) throw new Error(`safetensors: tensor '${t.name}' has ${t.data.length} values but shape [${t.shape.join(", ")}]`);
        if (t.name in header) throw new Error(`safetensors: duplicate tensor name '${t.name}'`);
        const bytes = ENCODERS[dtype](t.data);
        header[t.name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
        blobs.push(bytes);
        offset += bytes.length;
    }
    let json = Buffer.from(JSON.stringify(header), "utf8");
    const padded = Math.ceil(json.length / 8) * 8;
    if (padded !== json.length) json = Buffer.concat([json, Buffer.alloc(padded - json.length, 0x20)]);
    const out = new Uint8Array(8 + json.length + offset);
    new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
    out.set(json, 8);
    let pos = 8 + json.length;
    for (const b of blobs) {
        out.set(b, pos);
        pos += b.length;
    }
    return out;
}

export function writeSafetensors(path: string, tensors: readonly SafetensorsTensor[], dtype: SafetensorsDtype, metadata?: Record<string, string>): void {
    writeFileAtomic(path, encodeSafetensors(tensors, dtype, metadata));
}
