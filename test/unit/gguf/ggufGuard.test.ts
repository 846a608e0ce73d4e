// The GGUF guard (issue 12.6): the reader refuses every file whose tensor table and data region disagree, sizes come
// from checked arithmetic, and each refusal names the file, the byte and the cause. The fuzz feeds 10,000 mutated
// headers (truncations, counts, string lengths, type codes, offsets, appended and removed bytes) and requires, for
// every one, either a typed refusal or a layout an independent walk (support/ggufFields.ts) confirms.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { f32Bytes, GgmlType, GgufAccessError, GgufFormatError, ModelFileError, openModelFile, readGguf, writeGguf, encodeF16, encodeQ4_0, type GgufValue } from "../../../sidecar/src/gguf";
import { layoutViolation, walkHeader, type Field } from "../support/ggufFields";
import { prng } from "../support/prng";

const dir = mkdtempSync(join(tmpdir(), "gguf-guard-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const kv: [string, GgufValue][] = [
    ["general.architecture", { type: "string", value: "llama" }],
    ["general.name", { type: "string", value: "fuzz base" }],
    ["llama.block_count", { type: "u32", value: 1 }],
    ["llama.rope.freq_base", { type: "f32", value: 10000 }],
    ["tokenizer.ggml.tokens", { type: "array", itemType: "string", value: Array.from({ length: 24 }, (_, i) => `tok${i}`) }],
    ["tokenizer.ggml.scores", { type: "array", itemType: "f32", value: Array.from({ length: 24 }, (_, i) => -i) }],
    ["tokenizer.ggml.add_bos_token", { type: "bool", value: true }],
    ["general.size", { type: "u64", value: 123n }]
];

function baseFile(name: string, alignment: number, withTensors: boolean): string {
    const path = join(dir, name);
    const values = Float32Array.from({ length: 128 }, (_, i) => Math.sin(i));
    writeGguf(path, {
        kv,
        alignment,
        tensors: withTensors
            ? [
                { name: "token_embd.weight", dims: [32, 2], type: GgmlType.F32, data: f32Bytes(values.subarray(0, 64)) },
                { name: "blk.0.attn_q.weight", dims: [64, 2], type: GgmlType.Q4_0, data: encodeQ4_0(values) },
                { name: "blk.0.attn_norm.weight", dims: [33], type: GgmlType.F16, data: encodeF16(values.subarray(0, 33)) },
                { name: "output.weight", dims: [32, 1], type: GgmlType.F32, data: f32Bytes(values.subarray(0, 32)) }
            ]
            : []
    });
    return path;
}

const bases = [baseFile("a32.gguf", 32, true), baseFile("a64.gguf", 64, true), baseFile("vocab.gguf", 32, false)].map((p) => readFileSync(p));

test("every base file reads, and its layout passes the independent walk", () => {
    for (const bytes of bases) assert.equal(layoutViolation(walkHeader(bytes), bytes.length), undefined);
    for (const name of ["a32.gguf", "a64.gguf", "vocab.gguf"]) readGguf(join(dir, name));
});

test("a tensor count one short is refused: the data would start inside the tensor table", () => {
    const bytes = Buffer.from(bases[0]!);
    bytes.writeBigUInt64LE(bytes.readBigUInt64LE(8) - 1n, 8);
    const path = join(dir, "one-short.gguf");
    writeFileSync(path, bytes);
    assert.throws(() => readGguf(path), (e: unknown) => {
        assert.ok(e instanceof GgufFormatError, String(e));
        assert.equal(e.problem, "data-mismatch");
        assert.match(e.message, /one-short\.gguf: not a valid GGUF file \(byte \d+\): .*no tensor accounts for.*tensor count/);
        return true;
    });
});

test("bytes appended after the last tensor, a truncated last tensor and a moved tensor offset are each refused with their cause", () => {
    const appended = join(dir, "appended.gguf");
    writeFileSync(appended, Buffer.concat([bases[0]!, Buffer.alloc(64)]));
    assert.throws(() => readGguf(appended), (e: unknown) => e instanceof GgufFormatError && e.problem === "data-mismatch");

    const truncated = join(dir, "truncated.gguf");
    writeFileSync(truncated, bases[0]!.subarray(0, bases[0]!.length - 40));
    assert.throws(() => readGguf(truncated), (e: unknown) => e instanceof GgufFormatError && e.problem === "truncated" && /tensor 'output\.weight' needs 128 bytes .*truncated/.test(e.message));

    const moved = Buffer.from(bases[0]!);
    const offset = walkHeader(moved).fields.filter((f) => f.kind === "tensor-offset")[1]!;
    moved.writeBigUInt64LE(moved.readBigUInt64LE(offset.at) + 32n, offset.at);
    const movedPath = join(dir, "moved.gguf");
    writeFileSync(movedPath, moved);
    assert.throws(() => readGguf(movedPath), (e: unknown) => e instanceof GgufFormatError && e.problem === "data-mismatch" && e.offset === offset.at);
});

test("counts that cannot fit the file are refused before anything is allocated", () => {
    for (const [at, what] of [[8, "tensor count"], [16, "KV count"]] as const) {
        const bytes = Buffer.from(bases[0]!);
        bytes.writeBigUInt64LE(1n << 40n, at);
        const path = join(dir, `count-${at}.gguf`);
        writeFileSync(path, bytes);
        assert.throws(() => readGguf(path), (e: unknown) => e instanceof GgufFormatError && e.problem === "does-not-fit" && e.offset === at && e.message.includes(what));
    }
});

test("an unreadable file (mode 000) names the file and says permission denied", { skip: process.getuid?.() === 0 ? "root reads any file, so the permission case cannot fail here" : false }, () => {
    const locked = join(dir, "locked.gguf");
    writeFileSync(locked, bases[0]!);
    chmodSync(locked, 0o000);
    assert.throws(() => readGguf(locked), (e: unknown) => e instanceof GgufAccessError && e.code === "EACCES" && e.message.includes(locked) && /permission denied/.test(e.message));
});

test("missing, folder and device paths are GgufAccessErrors that name the file and the reason", () => {
    const missing = join(dir, "missing.gguf");
    assert.throws(() => readGguf(missing), (e: unknown) => e instanceof GgufAccessError && e.code === "ENOENT" && e.message === `${missing} does not exist (ENOENT)`);
    const folder = join(dir, "folder.gguf");
    mkdirSync(folder);
    assert.throws(() => readGguf(folder), (e: unknown) => e instanceof GgufAccessError && e.code === "EISDIR");
    assert.throws(() => readGguf("/dev/zero"), (e: unknown) => e instanceof GgufAccessError && e.code === "ENOTREG" && /not a regular file/.test(e.message));
});

test("openModelFile words each failure for its role and refuses an adapter given as the base model", () => {
    const truncated = join(dir, "truncated-role.gguf");
    writeFileSync(truncated, bases[0]!.subarray(0, 100));
    assert.throws(() => openModelFile(truncated), (e: unknown) => e instanceof ModelFileError && e.message.startsWith(`the base model ${truncated}: not a valid GGUF file (byte `) && /truncated/.test(e.message));
    assert.throws(() => openModelFile(join(dir, "nope.gguf"), { role: "adapter" }), /^Error: the adapter .*nope\.gguf does not exist \(ENOENT\)$|the adapter .*nope\.gguf does not exist/);
    const adapter = join(dir, "adapter.gguf");
    writeGguf(adapter, { kv: [["general.type", { type: "string", value: "adapter" }], ["general.architecture", { type: "string", value: "llama" }]], tensors: [] });
    assert.throws(() => openModelFile(adapter), /is a LoRA adapter .*not a base model/);
    const noArch = join(dir, "no-arch.gguf");
    writeGguf(noArch, { kv: [["general.name", { type: "string", value: "x" }]], tensors: [] });
    assert.throws(() => openModelFile(noArch), /has no general\.architecture/);
    assert.equal(openModelFile(adapter, { role: "adapter" }).tensors.length, 0);
});

// ---- the fuzz ----

type Mutation = (bytes: Buffer, fields: Field[], rnd: () => number) => Buffer;
const pick = <T>(items: readonly T[], rnd: () => number): T => items[Math.floor(rnd() * items.length)]!;

function interesting(old: bigint, size: 4 | 8, fileSize: number, rnd: () => number): bigint {
    const max = size === 4 ? 0xffffffffn : 0xffffffffffffffffn;
    const candidates = [0n, 1n, old - 1n, old + 1n, old * 2n, old + 32n, old - 32n, BigInt(fileSize), BigInt(fileSize) * 8n, max, max / 2n, max / 2n + 1n, 1n << 31n, 1n << 53n, BigInt(Math.floor(rnd() * 2 ** 32))];
    const v = pick(candidates, rnd);
    return v < 0n ? 0n : v > max ? max : v;
}

const mutations: Record<string, Mutation> = {
    truncate: (b, _f, rnd) => b.subarray(0, Math.floor(rnd() * b.length)),
    field: (b, fields, rnd) => {
        const out = Buffer.from(b);
        const f = pick(fields, rnd);
        if (f.at + f.size > out.length) return out;
        if (f.size === 4) out.writeUInt32LE(Number(interesting(BigInt(out.readUInt32LE(f.at)), 4, b.length, rnd)), f.at);
        else out.writeBigUInt64LE(interesting(out.readBigUInt64LE(f.at), 8, b.length, rnd), f.at);
        return out;
    },
    flipByte: (b, fields, rnd) => {
        const out = Buffer.from(b);
        // Mostly inside the header, where the structure is.
        const headerEnd = Math.max(...fields.map((f) => f.at + f.size), 24);
        const at = Math.floor(rnd() * (rnd() < 0.8 ? Math.min(headerEnd, out.length) : out.length));
        if (at < out.length) out[at] = Math.floor(rnd() * 256);
        return out;
    },
    append: (b, _f, rnd) => Buffer.concat([b, Buffer.alloc(1 + Math.floor(rnd() * 100), Math.floor(rnd() * 256))]),
    cut: (b, _f, rnd) => {
        const from = Math.floor(rnd() * b.length);
        const to = Math.min(b.length, from + 1 + Math.floor(rnd() * 64));
        return Buffer.concat([b.subarray(0, from), b.subarray(to)]);
    },
    insert: (b, _f, rnd) => {
        const at = Math.floor(rnd() * b.length);
        return Buffer.concat([b.subarray(0, at), Buffer.alloc(1 + Math.floor(rnd() * 16), Math.floor(rnd() * 256)), b.subarray(at)]);
    }
};

test("fuzz: 10,000 mutated headers are refused with a GgufFormatError, or accepted only when the data fits exactly", { timeout: 300_000 }, () => {
    const seed = Number(process.env.GGUF_FUZZ_SEED ?? 12);
    const rnd = prng(seed);
    const path = join(dir, "fuzz.gguf");
    const walks = bases.map((b) => walkHeader(b));
    const names = Object.keys(mutations);
    const tally = { refused: 0, accepted: 0, unchanged: 0 };
    const problems = new Map<string, number>();
    for (let i = 0; i < 10_000; i++) {
        const which = Math.floor(rnd() * bases.length);
        let bytes: Buffer = bases[which]!;
        const rounds = 1 + Math.floor(rnd() * 3);
        const applied: string[] = [];
        for (let r = 0; r < rounds; r++) {
            const name = pick(names, rnd);
            applied.push(name);
            bytes = mutations[name]!(bytes, walks[which]!.fields, rnd);
        }
        if (bytes.equals(bases[which]!)) tally.unchanged++;
        writeFileSync(path, bytes);
        const context = `seed ${seed}, case ${i}, base ${which}, mutations ${applied.join("+")}`;
        try {
            const file = readGguf(path);
            tally.accepted++;
            // Accepted: an independent walk must find the same table and a data region that fits exactly.
            const walk = walkHeader(bytes);
            assert.equal(walk.tensors.length, file.tensors.length, context);
            assert.equal(layoutViolation(walk, bytes.length), undefined, context);
            for (const t of file.tensors) assert.ok(file.dataOffset + t.offset + (t.byteLength ?? Infinity) <= bytes.length, `${context}: ${t.name}`);
        } catch (error) {
            if (!(error instanceof GgufFormatError)) throw new Error(`${context}: not a GgufFormatError: ${(error as Error).stack}`);
            assert.ok(error.message.startsWith(`${path}: not a valid GGUF file (byte ${error.offset}): `), `${context}: ${error.message}`);
            assert.ok(error.offset >= 0 && error.offset <= bytes.length, `${context}: byte ${error.offset} outside the ${bytes.length}-byte file`);
            tally.refused++;
            problems.set(error.problem, (problems.get(error.problem) ?? 0) + 1);
        }
    }
    // The fuzz must exercise both outcomes and every kind of refusal, or it proves little.
    assert.ok(tally.refused > 5000, JSON.stringify(tally));
    assert.ok(tally.accepted > 100, JSON.stringify(tally));
    for (const kind of ["truncated", "bad-magic", "unsupported-version", "does-not-fit", "data-mismatch", "corrupt"]) assert.ok((problems.get(kind) ?? 0) > 0, `no ${kind} refusal: ${JSON.stringify([...problems])}`);
    console.log(`gguf fuzz (seed ${seed}): ${JSON.stringify(tally)}, refusals ${JSON.stringify(Object.fromEntries(problems))}`);
});
