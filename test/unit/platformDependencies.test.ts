// package.json names no one-platform binary as a dependency: npm refuses to install a package whose "os"/"cpu"/"libc"
// excludes the machine (EBADPLATFORM) unless it is optional, so one such entry breaks `npm install` on every other
// platform. The platform binaries (node-llama-cpp's prebuilts, esbuild's) come as their parents' optional
// dependencies; CI adds the linux-x64 pair without saving them (.ci/run).
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./support/repoRoot";

const root = repoRoot;

interface Manifest {
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
    os?: string[];
    cpu?: string[];
    libc?: string[];
}

function manifest(path: string): Manifest {
    return JSON.parse(readFileSync(path, "utf8")) as Manifest;
}

test("no dependency or devDependency is a one-platform binary (os/cpu/libc-restricted package)", () => {
    const own = manifest(join(root, "package.json"));
    const names = [...Object.keys(own.dependencies ?? {}), ...Object.keys(own.devDependencies ?? {})];
    assert.ok(names.includes("node-llama-cpp") && names.includes("esbuild"), "the parents of the platform binaries are dependencies");
    const restricted = names.flatMap((name) => {
        const path = join(root, "node_modules", name, "package.json");
        assert.ok(existsSync(path), `${name} is installed (npm install first)`);
        const m = manifest(path);
        const limits = [m.os && `os ${m.os.join("/")}`, m.cpu && `cpu ${m.cpu.join("/")}`, m.libc && `libc ${m.libc.join("/")}`].filter(Boolean);
        return limits.length > 0 ? [`${name} (${limits.join(", ")})`] : [];
    });
    assert.deepEqual(restricted, [], "make these optional (or leave them to their parent's optionalDependencies)");
});
