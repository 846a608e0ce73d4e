// Test models under .cache/fixtures/. `scripts/make-fixtures.mjs` (run by `npm test`) regenerates them
// when the generator changes; a test run on its own generates any that are missing.
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { makeTinyModel, type TinyModelQuant } from "../../sidecar/src/tinyModel/makeTinyModel";
import { repoRoot } from "./torchReference";

export function fixturesDir(): string {
    const dir = join(repoRoot(), ".cache", "fixtures");
    mkdirSync(dir, { recursive: true });
    return dir;
}

/** Path of `tiny-<quant>.gguf` (default shape and seed), generated if missing. */
export function fixturePath(name: `tiny-${TinyModelQuant}.gguf`): string {
    const path = join(fixturesDir(), name);
    if (!existsSync(path)) {
        const quant = name.slice("tiny-".length, -".gguf".length) as TinyModelQuant;
        makeTinyModel({ out: path, quant });
    }
    return path;
}
