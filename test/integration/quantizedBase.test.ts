// "4-bit as a checkbox": an F32 base is quantized once into the cache, training loads the 4-bit copy, and the
// second run reuses it. Real engine, real tiny model.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readGguf, kvNumber } from "../../sidecar/src/gguf";
import { quantizedCachePath, trainingBasePath } from "../../sidecar/src/training/quantizedBase";
import { engineFixture, engineSkip } from "./engineHarness";

test("quantizeBase q4_k_m quantizes an F32 base once into the cache and reuses it", { skip: engineSkip }, async () => {
    const fixture = await engineFixture();
    const { engine, modelPath: base } = fixture;
    const cache = mkdtempSync(join(tmpdir(), "lora-studio-qcache-"));
    try {
        assert.equal(await trainingBasePath(engine, base, "none", cache), base, "none trains on the base itself");

        const first = await trainingBasePath(engine, base, "q4_k_m", cache);
        assert.equal(first, quantizedCachePath(base, "q4_k_m", cache));
        assert.equal(kvNumber(readGguf(first), "general.file_type"), 15, "llama_ftype MOSTLY_Q4_K_M");
        assert.ok(statSync(first).size < statSync(base).size / 4, "a 4-bit copy is well under a quarter of the F32 size");

        const mtime = statSync(first).mtimeMs;
        assert.equal(await trainingBasePath(engine, base, "q4_k_m", cache), first);
        assert.equal(statSync(first).mtimeMs, mtime, "the second run reuses the cached copy");

        assert.equal(await trainingBasePath(engine, first, "q4_0", cache), first, "an already quantized base is used as is");

        const model = await engine.loadModel(first, { threads: 2, nCtx: 64 });
        try {
            assert.equal(model.info.fileType, "q4_k_m");
        } finally {
            model.dispose();
        }
    } finally {
        rmSync(cache, { recursive: true, force: true });
        fixture.cleanup();
    }
});
