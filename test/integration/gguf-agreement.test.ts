// The TypeScript GGUF reader and the engine's pre-scan (gguf_scan_file in sidecar/native/addon/engine_model.cpp)
// agree on every file (issue 12.6): for the valid model and for each structural mutation of it (truncations, counts
// one off, a moved tensor offset, bytes appended, bad magic and version), both accept or both refuse, and the engine's
// refusal comes from its pre-scan, before llama.cpp loads anything. Needs the native engine built with that pre-scan
// (`node scripts/build-native.mjs`).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EngineError, type EngineModel } from "../../sidecar/src/engine";
import { GgufFormatError, readGguf } from "../../sidecar/src/gguf";
import { walkHeader } from "../unit/support/ggufFields";
import { engineFixture, engineSkip, type EngineFixture } from "./engineHarness";

/** The engine's own pre-scan messages; anything else is llama.cpp failing after the pre-scan passed. */
const PRESCAN = /is not a valid GGUF file|is truncated|cannot read model file/;

describe("GGUF reader and engine pre-scan agree", { skip: engineSkip }, () => {
    let fx: EngineFixture;
    before(async () => {
        fx = await engineFixture();
    });
    after(() => fx?.cleanup());

    test("the valid model and every structural mutation of it: both accept, or both refuse before llama.cpp", async (t) => {
        const bytes = readFileSync(fx.modelPath);
        const walk = walkHeader(bytes);
        const offsets = walk.fields.filter((f) => f.kind === "tensor-offset");
        const set64 = (at: number, delta: bigint): Buffer => {
            const b = Buffer.from(bytes);
            b.writeBigUInt64LE(b.readBigUInt64LE(at) + delta, at);
            return b;
        };
        const cases: Array<[string, Buffer]> = [
            ["the valid model", bytes],
            ["tensor count one short", set64(8, -1n)],
            ["tensor count one over", set64(8, 1n)],
            ["KV count one short", set64(16, -1n)],
            ["KV count one over", set64(16, 1n)],
            ["a middle tensor's offset moved by 32", set64(offsets[Math.floor(offsets.length / 2)]!.at, 32n)],
            ["the last tensor's offset moved by 32", set64(offsets.at(-1)!.at, 32n)],
            ["32 bytes appended", Buffer.concat([bytes, Buffer.alloc(32)])],
            ["4096 bytes appended", Buffer.concat([bytes, Buffer.alloc(4096)])],
            ["bad magic", Buffer.concat([Buffer.from("GGML"), bytes.subarray(4)])],
            ["version 1", (() => { const b = Buffer.from(bytes); b.writeUInt32LE(1, 4); return b; })()],
            ["version 4", (() => { const b = Buffer.from(bytes); b.writeUInt32LE(4, 4); return b; })()],
            ["3 bytes", bytes.subarray(0, 3)],
            ["empty", Buffer.alloc(0)]
        ];
        for (const fraction of [0.001, 0.01, 0.1, 0.5, 0.9, 0.999]) cases.push([`truncated to ${fraction * 100}%`, bytes.subarray(0, Math.floor(bytes.length * fraction))]);
        cases.push(["truncated by one byte", bytes.subarray(0, bytes.length - 1)]);
        for (const [i, [name, content]] of cases.entries()) {
            const path = join(fx.dir, `agree-${i}.gguf`);
            writeFileSync(path, content);
            let tsError: string | undefined;
            try {
                readGguf(path);
            } catch (error) {
                assert.ok(error instanceof GgufFormatError, `${name}: ${String(error)}`);
                tsError = error.message;
            }
            let engineError: string | undefined;
            let model: EngineModel | undefined;
            try {
                model = await fx.engine.loadModel(path, { threads: 1, nCtx: 64 });
            } catch (error) {
                assert.ok(error instanceof EngineError, `${name}: ${String(error)}`);
                engineError = error.message;
            } finally {
                model?.dispose();
            }
            t.diagnostic(`${name}: reader ${tsError ? "refuses" : "accepts"}; engine ${engineError ? `refuses: ${engineError.slice(0, 160)}` : "accepts"}`);
            if (tsError === undefined) {
                assert.equal(engineError, undefined, `${name}: the reader accepts it, the engine refuses it`);
            } else {
                assert.ok(engineError !== undefined, `${name}: the reader refuses it (${tsError}), the engine loads it`);
                assert.match(engineError, PRESCAN, `${name}: the engine's pre-scan refuses it, not llama.cpp after it`);
            }
        }
    });
});
