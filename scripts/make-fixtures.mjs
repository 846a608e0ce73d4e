// Generates the test models into .cache/fixtures/ with the built CLI (`npm run build` first).
// Each fixture is regenerated only when its options or the generator's sources change: a stamp file
// next to it holds the hash of both.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync, renameSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outDir = join(root, ".cache", "fixtures");
const cli = join(root, "bin", "lora-studio.mjs");

/** name → make-tiny-model arguments. The default shape and seed are the generator's. */
const fixtures = {
    "tiny-f32.gguf": ["--quant", "f32"],
    "tiny-q4_0.gguf": ["--quant", "q4_0"]
};

function sourcesHash() {
    const h = createHash("sha256");
    const walk = (dir) => {
        for (const name of readdirSync(dir).sort()) {
            const p = join(dir, name);
            if (statSync(p).isDirectory()) walk(p);
            else h.update(p.slice(root.length)).update(readFileSync(p));
        }
    };
    for (const d of ["sidecar/src/gguf", "sidecar/src/tinyModel"]) walk(join(root, d));
    h.update(readFileSync(join(root, "sidecar/src/cli/makeTinyModel.ts")));
    return h.digest("hex");
}

mkdirSync(outDir, { recursive: true });
const base = sourcesHash();
let made = 0;
for (const [name, args] of Object.entries(fixtures)) {
    const out = join(outDir, name);
    const stamp = `${out}.stamp`;
    const key = createHash("sha256").update(base).update(JSON.stringify(args)).digest("hex");
    if (existsSync(out) && existsSync(stamp) && readFileSync(stamp, "utf8") === key) continue;
    const r = spawnSync(process.execPath, [cli, "make-tiny-model", "--out", out, ...args], { cwd: root, stdio: "inherit" });
    if (r.status !== 0) {
        console.error(`make-fixtures: generating ${name} failed (exit ${r.status})`);
        process.exit(r.status ?? 1);
    }
    writeFileSync(`${stamp}.tmp`, key);
    renameSync(`${stamp}.tmp`, stamp);
    made++;
}
console.log(`make-fixtures: ${made} generated, ${Object.keys(fixtures).length - made} cached in ${outDir}`);
