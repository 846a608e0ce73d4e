// `lora-studio models pull` against a server on 127.0.0.1 serving a tiny GGUF (issue 14): a download whose connection
// drops midway resumes with a Range request and ends byte-identical; Ctrl+C keeps a resumable partial; a 404 and a
// non-GGUF body are reported and leave nothing behind.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeTinyModel } from "../../sidecar/src/tinyModel/makeTinyModel";
import { repoRoot } from "../oracle/torchReference";
import { CLI } from "./trainCliHarness";

const tmp = mkdtempSync(join(tmpdir(), "models-pull-"));
let model: Buffer;
let server: Server;
let base: string;
/** Each request's path and Range header, in order. */
const requests: Array<{ path: string; range: string | undefined }> = [];
/** Routes that misbehave only on their first, Range-less request. */
const misbehaved = new Set<string>();
/** Resolves when the stalling route has sent its first half (the cancel test waits on it, not on a timer). */
let halfSent: () => void = () => {};

before(async () => {
    const path = join(tmp, "tiny.gguf");
    makeTinyModel({ out: path });
    model = readFileSync(path);
    server = createServer((req, res) => {
        const url = req.url ?? "/";
        const range = req.headers.range;
        requests.push({ path: url, range });
        const half = Math.floor(model.length / 2);
        if (url.endsWith("/missing.gguf")) {
            res.writeHead(404, { "content-type": "text/plain" }).end("Entry not found");
            return;
        }
        if (url.startsWith("/html/")) {
            const body = "<!doctype html><html><body>Please log in</body></html>";
            res.writeHead(200, { "content-type": "text/html", "content-length": body.length }).end(body);
            return;
        }
        if (url.startsWith("/redirect/")) {
            res.writeHead(302, { location: url.replace("/redirect/", "/plain/") }).end();
            return;
        }
        const firstTime = range === undefined && !misbehaved.has(url);
        if (firstTime && url.startsWith("/drop/")) {
            // Announce the whole file, send half, then cut the connection.
            misbehaved.add(url);
            res.writeHead(200, { "content-length": model.length });
            res.write(model.subarray(0, half), () => res.socket?.destroy());
            return;
        }
        if (firstTime && url.startsWith("/stall/")) {
            // Send half and then nothing: only the client's cancel ends this.
            misbehaved.add(url);
            res.writeHead(200, { "content-length": model.length });
            res.write(model.subarray(0, half), () => halfSent());
            return;
        }
        if (url.startsWith("/badrange/")) {
            // A server that answers a Range request with the wrong bytes (from 0, as a 206).
            res.writeHead(206, { "content-length": model.length, "content-range": `bytes 0-${model.length - 1}/${model.length}` }).end(model);
            return;
        }
        const m = range ? /^bytes=(\d+)-$/.exec(range) : null;
        if (m) {
            const from = Number(m[1]);
            res.writeHead(206, { "content-length": model.length - from, "content-range": `bytes ${from}-${model.length - 1}/${model.length}` }).end(model.subarray(from));
            return;
        }
        res.writeHead(200, { "content-length": model.length }).end(model);
    });
    await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
    rmSync(tmp, { recursive: true, force: true });
});

interface Result {
    code: number | null;
    stdout: string;
    stderr: string;
}

function pull(args: string[], onStart?: (child: ChildProcess) => void): Promise<Result> {
    const child = spawn(process.execPath, [CLI, "models", "pull", ...args], { cwd: repoRoot(), stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, HOME: tmp } });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
    onStart?.(child);
    return new Promise((settle, fail) => {
        child.on("error", fail);
        child.on("close", (code) => settle({ code, stdout, stderr }));
    });
}

function freshDir(name: string): string {
    return mkdtempSync(join(tmp, `${name}-`));
}

test("a dropped connection leaves a partial; pulling again resumes it with Range and the file is byte-identical", async () => {
    const dir = freshDir("drop");
    const uri = `${base}/drop/model.gguf`;
    const first = await pull([uri, "--dir", dir]);
    assert.equal(first.code, 1, first.stderr);
    assert.match(first.stderr, /pulling again resumes from .*model\.gguf\.partial/);
    const partial = join(dir, "model.gguf.partial");
    const kept = statSync(partial).size;
    assert.ok(kept > 0 && kept < model.length, `partial holds ${kept} of ${model.length} bytes`);
    assert.equal(existsSync(join(dir, "model.gguf")), false, "an unfinished download is never under the model's name");

    const second = await pull([uri, "--dir", dir]);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout.trim(), join(dir, "model.gguf"));
    assert.match(second.stderr, new RegExp(`resumed from byte ${kept}`));
    assert.deepEqual(requests.filter((r) => r.path === "/drop/model.gguf").map((r) => r.range), [undefined, `bytes=${kept}-`]);
    assert.ok(readFileSync(join(dir, "model.gguf")).equals(model), "the resumed file is the served file");
    assert.deepEqual(readdirSync(dir), ["model.gguf"]);
});

test("Ctrl+C keeps the partial file, and the next pull resumes it", async () => {
    const dir = freshDir("cancel");
    const uri = `${base}/stall/model.gguf`;
    const sent = new Promise<void>((done) => (halfSent = done));
    const cancelled = await pull([uri, "--dir", dir], (child) => {
        // The server has sent half and the CLI has printed its progress for it: cancel then.
        let progress = false;
        child.stderr!.on("data", (c: Buffer) => {
            if (!progress && c.toString().includes("downloading")) {
                progress = true;
                void sent.then(() => child.kill("SIGINT"));
            }
        });
    });
    assert.equal(cancelled.code, 130, cancelled.stderr);
    assert.match(cancelled.stderr, /cancelled; the partial file .*model\.gguf\.partial is kept/);
    const kept = statSync(join(dir, "model.gguf.partial")).size;
    assert.ok(kept > 0 && kept < model.length, `partial holds ${kept} of ${model.length} bytes`);

    const resumed = await pull([uri, "--dir", dir]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(requests.filter((r) => r.path === "/stall/model.gguf").at(-1)?.range, `bytes=${kept}-`);
    assert.ok(readFileSync(join(dir, "model.gguf")).equals(model));
    assert.deepEqual(readdirSync(dir), ["model.gguf"]);
});

test("a 404 is reported with its status and URL, and leaves nothing behind", async () => {
    const dir = freshDir("404");
    const r = await pull([`${base}/nowhere/missing.gguf`, "--dir", dir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not found \(HTTP 404 Not Found from http:\/\/127\.0\.0\.1:\d+\/nowhere\/missing\.gguf\)/);
    assert.deepEqual(readdirSync(dir), []);
});

test("a full disk (faked: the partial is a link to /dev/full, whose every write fails with ENOSPC) fails cleanly and removes the partial", { skip: existsSync("/dev/full") ? false : "no /dev/full on this system" }, async () => {
    // A real full filesystem would need a mount, which a test cannot make; /dev/full is the kernel's own ENOSPC.
    const dir = freshDir("full");
    symlinkSync("/dev/full", join(dir, "model.gguf.partial"));
    const r = await pull([`${base}/plain/model.gguf`, "--dir", dir]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /cannot write .*model\.gguf\.partial: no space left on device; the partial file was removed/);
    assert.deepEqual(readdirSync(dir), [], "neither the partial nor a model is left");
});

test("a body that is not GGUF is deleted and reported", async () => {
    const dir = freshDir("html");
    const r = await pull([`${base}/html/model.gguf`, "--dir", dir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /did not download a GGUF model, so the downloaded file was deleted: .*model\.gguf\.partial/);
    assert.deepEqual(readdirSync(dir), []);
});

test("a server that answers a Range request with other bytes is refused, and the partial removed so the next pull starts over", async () => {
    const dir = freshDir("badrange");
    writeFileSync(join(dir, "model.gguf.partial"), model.subarray(0, 100));
    const r = await pull([`${base}/badrange/model.gguf`, "--dir", dir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /for the bytes from 100 on, and it answered with Content-Range "bytes 0-\d+\/\d+"; the partial file was removed/);
    assert.deepEqual(readdirSync(dir), []);
});

test("hf: URIs resolve against $HF_ENDPOINT, redirects are followed, and a second pull finds the file present", async () => {
    const dir = freshDir("hf");
    const env = { HF_ENDPOINT: `${base}/redirect` };
    const run = (): Promise<Result> => new Promise((settle, fail) => {
        const child = spawn(process.execPath, [CLI, "models", "pull", "hf:org/Tiny-GGUF/tiny-Q4_K_M.gguf", "--dir", dir], { cwd: repoRoot(), stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, HOME: tmp, ...env } });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
        child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
        child.on("error", fail);
        child.on("close", (code) => settle({ code, stdout, stderr }));
    });
    const first = await run();
    assert.equal(first.code, 0, first.stderr);
    assert.ok(requests.some((r) => r.path === "/plain/org/Tiny-GGUF/resolve/main/tiny-Q4_K_M.gguf"));
    assert.ok(readFileSync(join(dir, "tiny-Q4_K_M.gguf")).equals(model));
    assert.match(first.stderr, /llama, .* params, F32; trainable/);
    const again = await run();
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /already downloaded/);
});
