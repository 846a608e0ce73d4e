// Discovery's bounds (issue 14): a walk stops at its depth, entry and model limits and says so, skips node_modules and
// .git, and a later part of a split GGUF is not an entry of its own.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { discoverModels } from "../../../sidecar/src/models/discover";

const root = mkdtempSync(join(tmpdir(), "models-discover-"));
after(() => rmSync(root, { recursive: true, force: true }));

function file(path: string): void {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), "not a model");
}

const location = { home: join(root, "home"), platform: "linux" as const, env: { OLLAMA_MODELS: join(root, "no-ollama") } };

test("a walk skips node_modules, .git and later split parts, and stops at its depth", () => {
    for (const f of ["a.gguf", "d1/d2/deep.gguf", "node_modules/x/n.gguf", ".git/g.gguf", "m-00001-of-00002.gguf", "m-00002-of-00002.gguf", "notes.txt"]) file(`ws1/${f}`);
    const names = (maxDepth: number): string[] => discoverModels({ location, workspaceFolders: [join(root, "ws1")], limits: { maxDepth } }).models.map((m) => m.name);
    assert.deepEqual(names(6), ["a.gguf", "m-00001-of-00002.gguf", "d1/d2/deep.gguf"]);
    assert.deepEqual(names(1), ["a.gguf", "m-00001-of-00002.gguf"]);
});

test("a walk that reaches its entry or model limit says so and keeps what it found", () => {
    for (let i = 0; i < 20; i++) file(`ws2/m${String(i).padStart(2, "0")}.gguf`);
    const byModels = discoverModels({ location, workspaceFolders: [join(root, "ws2")], limits: { maxModels: 5 } });
    assert.equal(byModels.models.length, 5);
    assert.deepEqual(byModels.searched[0], { source: "workspace", folder: join(root, "ws2"), status: "truncated", detail: "stopped after 5 model files" });
    const byEntries = discoverModels({ location, workspaceFolders: [join(root, "ws2")], limits: { maxEntries: 3 } });
    assert.equal(byEntries.models.length, 3);
    assert.equal(byEntries.searched[0]?.status, "truncated");
    assert.ok(byEntries.models.every((m) => !m.readable && /not a model|GGUF/i.test(m.reason)), JSON.stringify(byEntries.models[0]));
});
