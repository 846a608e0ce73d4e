// The installable package: scripts/package.mjs on the built tree writes a linux-x64 VSIX that holds what the installed
// extension loads at run time (bundles, the engine addon, node-llama-cpp with its dependencies and its linux-x64
// prebuilt) and nothing of the development tree (tests, benches, TypeScript sources, source maps). The VSIX is a zip;
// its central directory is read here, so the test needs no unzip tool.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inflateRawSync } from "node:zlib";
import { nativeAddonPath, packageRoot } from "../../sidecar/src/engine";

/**
 * Measured 15.8 MB (15,813,917 bytes: node-llama-cpp's linux-x64 prebuilt ~11 MB compressed, the engine addon, the
 * bundles); the bound is about 25% above, so an accidentally shipped tree (llama.cpp sources, the 34 MB
 * gitRelease.bundle, typescript) fails here.
 */
const MAX_VSIX_BYTES = 20_000_000;
const TARGET = "linux-x64";

const root = packageRoot();
const workDir = mkdtempSync(join(tmpdir(), "lora-package-"));
after(() => rmSync(workDir, { recursive: true, force: true }));

const skip: string | false =
    process.platform !== "linux" || process.arch !== "x64" ? `packages are built for ${TARGET} only`
    : existsSync(nativeAddonPath()) || process.env.CI ? false
    : `native engine not built (${nativeAddonPath()}); run node scripts/build-native.mjs`;

interface ZipEntry {
    name: string;
    method: number;
    compressedSize: number;
    localHeaderOffset: number;
}

/** The entries of a zip's central directory (no zip64: a VSIX is far below 4 GB and 65,535 entries). */
function zipEntries(zip: Buffer): ZipEntry[] {
    const EOCD = 0x06054b50;
    const CENTRAL = 0x02014b50;
    let eocd = -1;
    for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
        if (zip.readUInt32LE(i) === EOCD) {
            eocd = i;
            break;
        }
    }
    assert.ok(eocd >= 0, "the VSIX is a zip (end of central directory found)");
    const count = zip.readUInt16LE(eocd + 10);
    let at = zip.readUInt32LE(eocd + 16);
    const entries: ZipEntry[] = [];
    for (let i = 0; i < count; i++) {
        assert.equal(zip.readUInt32LE(at), CENTRAL, `central directory entry ${i}`);
        const nameLength = zip.readUInt16LE(at + 28);
        const extraLength = zip.readUInt16LE(at + 30);
        const commentLength = zip.readUInt16LE(at + 32);
        entries.push({
            name: zip.toString("utf8", at + 46, at + 46 + nameLength),
            method: zip.readUInt16LE(at + 10),
            compressedSize: zip.readUInt32LE(at + 20),
            localHeaderOffset: zip.readUInt32LE(at + 42),
        });
        at += 46 + nameLength + extraLength + commentLength;
    }
    return entries;
}

/** One entry's content (stored or deflated). */
function zipRead(zip: Buffer, entry: ZipEntry): Buffer {
    const start = entry.localHeaderOffset + 30 + zip.readUInt16LE(entry.localHeaderOffset + 26) + zip.readUInt16LE(entry.localHeaderOffset + 28);
    const data = zip.subarray(start, start + entry.compressedSize);
    return entry.method === 8 ? inflateRawSync(data) : Buffer.from(data);
}

/** node-llama-cpp's run-time dependency closure, per package-lock.json: the node_modules paths it resolves to. */
function nodeLlamaCppClosure(): string[] {
    const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8")) as { packages: Record<string, { dependencies?: Record<string, string> }> };
    const resolve = (from: string, name: string): string | undefined => {
        for (let base = from; ; ) {
            const key = `${base ? `${base}/` : ""}node_modules/${name}`;
            if (lock.packages[key]) return key;
            if (!base) return undefined;
            const i = base.lastIndexOf("/node_modules/");
            base = i < 0 ? "" : base.slice(0, i);
        }
    };
    const seen = new Set<string>();
    const stack = ["node_modules/node-llama-cpp", `node_modules/@node-llama-cpp/${TARGET}`];
    while (stack.length > 0) {
        const key = stack.pop()!;
        if (seen.has(key)) continue;
        seen.add(key);
        for (const dep of Object.keys(lock.packages[key]?.dependencies ?? {})) {
            const found = resolve(key, dep);
            if (found) stack.push(found);
        }
    }
    return [...seen].sort();
}

test(`npm run package writes a small ${TARGET} VSIX with the engine, node-llama-cpp and no development files`, { skip, timeout: 300_000 }, () => {
    const vsix = join(workDir, `lora-studio-${TARGET}.vsix`);
    // npm test has built the bundles and the engine; --skip-build packages that tree (the script alone builds first).
    const r = spawnSync(process.execPath, [join(root, "scripts", "package.mjs"), "--skip-build", "--out", vsix], { cwd: root, encoding: "utf8" });
    assert.equal(r.status, 0, `scripts/package.mjs failed:\n${r.stdout}\n${r.stderr}`);

    const size = statSync(vsix).size;
    assert.ok(size < MAX_VSIX_BYTES, `the VSIX is ${size} bytes, above the bound of ${MAX_VSIX_BYTES}`);

    const zip = readFileSync(vsix);
    const entries = zipEntries(zip);
    const names = new Set(entries.map((e) => e.name));

    const manifest = entries.find((e) => e.name === "extension.vsixmanifest");
    assert.ok(manifest, "the VSIX has a manifest");
    assert.match(zipRead(zip, manifest).toString("utf8"), new RegExp(`TargetPlatform="${TARGET}"`), "the manifest names the target platform");

    // What the installed extension loads: package.json "main", the processes it spawns, and the engine addon
    // (sidecar/src/engine/native.ts finds it under packageRoot(), the extension's folder).
    const main = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { main: string }).main.replace(/^\.\//, "");
    for (const file of [main, "dist/server.js", "dist/sidecar.mjs", "dist/schemas/run-config.editor.schema.json", "sidecar/native/build/Release/lora_studio_engine.node"]) {
        assert.ok(names.has(`extension/${file}`), `the VSIX holds ${file}`);
    }
    const prebuilt = `extension/node_modules/@node-llama-cpp/${TARGET}/bins/${TARGET}/`;
    for (const file of ["llama-addon.node", "libggml-base.so", "libggml-cpu-x64.so"]) {
        assert.ok(names.has(prebuilt + file), `the VSIX holds node-llama-cpp's ${TARGET} prebuilt ${file}`);
    }
    const missing = nodeLlamaCppClosure().filter((dir) => !names.has(`extension/${dir}/package.json`));
    assert.deepEqual(missing, [], "every package node-llama-cpp needs at run time is in the VSIX (.vscodeignore leaves out only bundled ones)");

    // Nothing of the development tree.
    const forbidden = [...names].filter((name) =>
        /^extension\/(test|bench|out|scripts|extension|media\/[^/]+\/[^/]+\.ts$|sidecar\/(src|native\/(addon|patches|build\/llama\.cpp)))(\/|$)/.test(name)
        || name.endsWith(".ts")
        || name.endsWith(".map")
        || name.endsWith("gitRelease.bundle")
        || name.startsWith("extension/node_modules/typescript/"));
    assert.deepEqual(forbidden.slice(0, 20), [], `the VSIX holds ${forbidden.length} development files (tests, benches, sources, maps)`);
});
