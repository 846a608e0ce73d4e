// The GGUF reader/writer: exact round trips of every KV type and tensor layout, byte-identical
// re-writing of a real vocabulary file from the llama.cpp bundle, and clear errors on damaged files.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
    GgmlType,
    GgufFormatError,
    bf16BitsToF32,
    encodeBF16,
    encodeF16,
    encodeQ4_0,
    f16BitsToF32,
    f32Bytes,
    f32ToBf16Bits,
    f32ToF16Bits,
    readGguf,
    readTensorBytes,
    readTensorF32,
    writeGguf,
    type GgufValue
} from "../../sidecar/src/gguf";
import { bundledVocabPath } from "../../sidecar/src/tinyModel/bundleAssets";

const dir = mkdtempSync(join(tmpdir(), "gguf-test-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const everyKv: [string, GgufValue][] = [
    ["t.u8", { type: "u8", value: 255 }],
    ["t.i8", { type: "i8", value: -128 }],
    ["t.u16", { type: "u16", value: 65535 }],
    ["t.i16", { type: "i16", value: -32768 }],
    ["t.u32", { type: "u32", value: 4294967295 }],
    ["t.i32", { type: "i32", value: -2147483648 }],
    ["t.f32", { type: "f32", value: 1.5 }],
    ["t.f64", { type: "f64", value: Math.PI }],
    ["t.u64", { type: "u64", value: 18446744073709551615n }],
    ["t.i64", { type: "i64", value: -9223372036854775808n }],
    ["t.bool", { type: "bool", value: true }],
    ["t.string", { type: "string", value: "héllo <|end|> ✓" }],
    ["t.empty", { type: "string", value: "" }],
    ["t.arr.strings", { type: "array", itemType: "string", value: ["a", "", "<|user|>", "日本"] }],
    ["t.arr.f32", { type: "array", itemType: "f32", value: [0.25, -2, 1e-3].map(Math.fround) }],
    ["t.arr.i32", { type: "array", itemType: "i32", value: [1, -1, 7] }],
    ["t.arr.u64", { type: "array", itemType: "u64", value: [0n, 1n << 40n] }],
    ["t.arr.bool", { type: "array", itemType: "bool", value: [true, false] }],
    ["t.arr.empty", { type: "array", itemType: "u8", value: [] }]
];

test("every KV type and F32/F16/Q4_0 tensors round-trip exactly, with the chosen alignment", () => {
    const a = Float32Array.from({ length: 64 * 3 }, (_, i) => Math.sin(i) * 3);
    const b = Float32Array.from({ length: 32 }, (_, i) => i - 16);
    const path = join(dir, "all.gguf");
    const tensors = [
        { name: "a.f32", dims: [64, 3], type: GgmlType.F32, data: f32Bytes(a) },
        { name: "b.f16", dims: [32], type: GgmlType.F16, data: () => encodeF16(b) },
        { name: "c.q4_0", dims: [64, 3], type: GgmlType.Q4_0, data: encodeQ4_0(a) },
        { name: "d.odd", dims: [3], type: GgmlType.F32, data: f32Bytes(new Float32Array([1, 2, 3])) }
    ];
    writeGguf(path, { kv: everyKv, tensors, alignment: 64 });
    const file = readGguf(path);
    assert.equal(file.version, 3);
    assert.equal(file.alignment, 64);
    assert.deepEqual(new Map([...file.kv].filter(([k]) => k !== "general.alignment")), new Map(everyKv));
    assert.deepEqual(file.kv.get("general.alignment"), { type: "u32", value: 64 });
    assert.deepEqual(file.tensors.map((t) => [t.name, t.dims, t.type]), tensors.map((t) => [t.name, t.dims, t.type]));
    for (const t of file.tensors) assert.equal((file.dataOffset + t.offset) % 64, 0, `${t.name} is aligned`);
    assert.deepEqual(readTensorF32(file, "a.f32"), a);
    assert.deepEqual([...new Uint16Array(readTensorBytes(file, "b.f16").slice().buffer)].map(f16BitsToF32), [...b]);
    assert.deepEqual(readTensorBytes(file, "c.q4_0"), encodeQ4_0(a));
    assert.equal(readTensorBytes(file, "c.q4_0").length, 3 * 2 * 18);
});

test("re-writing the bundle's phi-3 vocabulary GGUF reproduces it byte for byte", () => {
    const src = bundledVocabPath("phi-3");
    const file = readGguf(src);
    const tokens = file.kv.get("tokenizer.ggml.tokens");
    assert.ok(tokens?.type === "array" && tokens.itemType === "string");
    assert.equal(tokens.value.length, 32064);
    assert.equal(tokens.value[32007], "<|end|>");
    assert.equal(file.kv.get("general.architecture")?.value, "phi3");
    const copy = join(dir, "phi3-copy.gguf");
    writeGguf(copy, { kv: file.kv, tensors: [] });
    assert.ok(readFileSync(copy).equals(readFileSync(src)));
});

test("every vocabulary GGUF in the bundle parses", () => {
    const modelsDir = join(bundledVocabPath("phi-3"), "..");
    const names = readdirSync(modelsDir).filter((n) => n.endsWith(".gguf"));
    assert.ok(names.length > 10);
    for (const n of names) assert.ok(readGguf(join(modelsDir, n)).kv.size > 0, n);
});

test("damaged files fail with a GgufFormatError that names the file and the problem", () => {
    const good = join(dir, "good.gguf");
    writeGguf(good, { kv: everyKv, tensors: [{ name: "w", dims: [32, 2], type: GgmlType.F32, data: new Uint8Array(256) }] });
    const bytes = readFileSync(good);

    const truncatedHeader = join(dir, "trunc-header.gguf");
    writeFileSync(truncatedHeader, bytes.subarray(0, 100));
    assert.throws(() => readGguf(truncatedHeader), (e: unknown) => e instanceof GgufFormatError && /trunc-header\.gguf/.test(e.message) && /truncated/.test(e.message));

    const truncatedData = join(dir, "trunc-data.gguf");
    writeFileSync(truncatedData, bytes.subarray(0, bytes.length - 10));
    assert.throws(() => readGguf(truncatedData), /tensor 'w' needs 256 bytes.*truncated/);

    const badMagic = join(dir, "magic.gguf");
    writeFileSync(badMagic, Buffer.concat([Buffer.from("GGML"), bytes.subarray(4)]));
    assert.throws(() => readGguf(badMagic), /magic.*expected/);

    const hugeString = join(dir, "huge.gguf");
    const corrupt = Buffer.from(bytes);
    corrupt.writeBigUInt64LE(1n << 60n, 24); // length of the first key
    writeFileSync(hugeString, corrupt);
    assert.throws(() => readGguf(hugeString), /string length .* exceeds/);
});

test("a failed write leaves neither the target nor a temporary file behind", () => {
    const sub = mkdtempSync(join(dir, "atomic-"));
    const target = join(sub, "bad.gguf");
    assert.throws(
        () => writeGguf(target, { kv: [], tensors: [{ name: "w", dims: [4], type: GgmlType.F32, data: new Uint8Array(3) }] }),
        /tensor 'w' has 3 bytes, expected 16/
    );
    assert.equal(existsSync(target), false);
    assert.deepEqual(readdirSync(sub), []);
});

test("F16 encoding rounds to nearest even and saturates to infinity", () => {
    assert.equal(f32ToF16Bits(1), 0x3c00);
    assert.equal(f32ToF16Bits(-2), 0xc000);
    assert.equal(f32ToF16Bits(65504), 0x7bff);
    assert.equal(f32ToF16Bits(65520), 0x7c00);
    assert.equal(f32ToF16Bits(2 ** -24), 0x0001);
    assert.equal(f32ToF16Bits(1e-9), 0);
    assert.equal(f32ToF16Bits(1 + 2 ** -11), 0x3c00); // tie → even
    assert.equal(f32ToF16Bits(1 + 3 * 2 ** -11), 0x3c02); // tie → even (up)
    for (const v of [0.1, 3.14159, -1234.5, 6.1e-5]) assert.ok(Math.abs(f16BitsToF32(f32ToF16Bits(v)) - v) <= Math.abs(v) * 2 ** -11);
});

test("BF16 encoding keeps the top half of the F32 bits, rounded to nearest even", () => {
    assert.equal(f32ToBf16Bits(1), 0x3f80);
    assert.equal(f32ToBf16Bits(-2), 0xc000);
    assert.equal(f32ToBf16Bits(1 + 2 ** -8), 0x3f80); // tie → even (down)
    assert.equal(f32ToBf16Bits(1 + 3 * 2 ** -8), 0x3f82); // tie → even (up)
    assert.equal(f32ToBf16Bits(1 + 2 ** -8 + 2 ** -20), 0x3f81); // above the tie → up
    assert.equal(f32ToBf16Bits(3.4e38), 0x7f80); // rounds past the largest finite value to infinity
    assert.ok(Number.isNaN(bf16BitsToF32(f32ToBf16Bits(NaN))));
    for (const v of [0.1, 3.14159, -1234.5, 6.1e-5, 1e30]) assert.ok(Math.abs(bf16BitsToF32(f32ToBf16Bits(v)) - v) <= Math.abs(v) * 2 ** -8);
    const bytes = encodeBF16(Float32Array.of(1, -2));
    assert.deepEqual([...bytes], [0x80, 0x3f, 0x00, 0xc0]);
});

test("Q4_0 encoding follows ggml: scale = max/-8, nibbles clamp to 15", () => {
    const x = Float32Array.from({ length: 32 }, (_, i) => (i === 5 ? -4 : i / 16));
    const q = encodeQ4_0(x);
    const d = f16BitsToF32(q[0]! | (q[1]! << 8));
    assert.equal(d, 0.5); // the largest magnitude is -4 → d = -4 / -8
    const dequant = (j: number): number => ((j < 16 ? q[2 + j]! & 15 : q[2 + j - 16]! >> 4) - 8) * d;
    assert.equal(dequant(5), -4);
    for (let j = 0; j < 32; j++) assert.ok(Math.abs(dequant(j) - x[j]!) <= d / 2 + 1e-6, `element ${j}`);
});
