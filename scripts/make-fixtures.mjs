// Generates the test models into .cache/fixtures/ with the built CLI (`npm run build` first).
// Each fixture is regenerated only when its options or the generator's sources change: a stamp file
// next to it holds the hash of both. The list is test/oracle/fixtures.json (test/oracle/fixtures.ts reads it
// too); `--only a.gguf,b.gguf` makes just those (the demo needs only tiny-f32.gguf).
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync, renameSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outDir = join(root, ".cache", "fixtures");
const cli = join(root, "bin", "lora-studio.mjs");

/** name → make-tiny-model arguments. The default shape and seed are the generator's. */
const all = Object.fromEntries(Object.entries(JSON.parse(readFileSync(join(root, "test", "oracle", "fixtures.json"), "utf8"))).map(
    ([name, o]) => [name, ["--arch", o.arch, "--quant", o.quant, ...(o.experts ? ["--experts", String(o.experts)] : [])]]
));
const onlyAt = process.argv.indexOf("--only");
const only = onlyAt >= 0 ? (process.argv[onlyAt + 1] ?? "").split(",").filter(Boolean) : undefined;
for (const name of only ?? []) {
    if (!(name in all)) {
        console.error(`make-fixtures: --only ${name}: no such fixture in test/oracle/fixtures.json (${Object.keys(all).join(", ")})`);
        process.exit(2);
    }
}
const fixtures = only ? Object.fromEntries(only.map((n) => [n, all[n]])) : all;

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
