// The real sidecar process against broken byte streams (issue 12.7): every case of the issue (garbage, a header
// without Content-Length, a negative and a 1e12 Content-Length, invalid JSON) and 10,000 random and mutated frames,
// each followed by a valid `initialize` that must be answered. Invalid JSON is answered with a JSON-RPC parse error;
// every framing problem is logged on stderr (never silent while alive). The sidecar is untrusted and has no
// workspace, so no mutated frame can load a model or start a run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { PROTOCOL_VERSION } from "../../sidecar/src/protocol/sidecar";
import { sidecarScript } from "./sidecarHarness";
import { prng } from "../unit/support/prng";

interface Response {
    id: string | number | null;
    result?: unknown;
    error?: { code: number; message: string };
}

const frame = (json: string | object): Buffer => {
    const body = Buffer.from(typeof json === "string" ? json : JSON.stringify(json), "utf8");
    return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`), body]);
};
const initialize = (id: string): Buffer => frame({ jsonrpc: "2.0", id, method: "initialize", params: { protocolVersion: PROTOCOL_VERSION, clientName: "framing test", workspaceTrusted: false } });

/** The real sidecar over raw pipes, with its answers parsed from stdout and its stderr kept. */
class RawSidecar {
    private readonly child: ChildProcessWithoutNullStreams;
    private out = Buffer.alloc(0);
    readonly responses: Response[] = [];
    stderr = "";
    private waiters = new Map<string | number | null, (r: Response) => void>();
    exited: number | null | undefined;

    constructor() {
        this.child = spawn(process.execPath, [sidecarScript], { stdio: ["pipe", "pipe", "pipe"] });
        this.child.stderr.on("data", (d: Buffer) => void (this.stderr += d.toString("utf8")));
        this.child.on("exit", (code) => void (this.exited = code));
        this.child.stdout.on("data", (d: Buffer) => {
            this.out = Buffer.concat([this.out, d]);
            for (;;) {
                const end = this.out.indexOf("\r\n\r\n");
                if (end < 0) return;
                const length = Number(/Content-Length: (\d+)/.exec(this.out.subarray(0, end).toString())![1]);
                if (this.out.length < end + 4 + length) return;
                const message = JSON.parse(this.out.subarray(end + 4, end + 4 + length).toString("utf8")) as Response & { method?: string };
                this.out = this.out.subarray(end + 4 + length);
                if (message.method !== undefined) continue; // a log notification
                this.responses.push(message);
                this.waiters.get(message.id)?.(message);
            }
        });
    }

    /** Resolves once stderr after offset `from` matches `pattern` (stderr and stdout are separate pipes: no order between them). */
    stderrMatch(pattern: RegExp, from: number, timeoutMs = 15_000): Promise<string> {
        return new Promise((resolve, reject) => {
            const check = (): boolean => {
                if (!pattern.test(this.stderr.slice(from))) return false;
                clearTimeout(timer);
                this.child.stderr.off("data", onData);
                resolve(this.stderr.slice(from));
                return true;
            };
            const onData = (): void => void check();
            const timer = setTimeout(() => {
                this.child.stderr.off("data", onData);
                reject(new Error(`stderr never matched ${pattern}: ${this.stderr.slice(from)}`));
            }, timeoutMs);
            this.child.stderr.on("data", onData);
            check();
        });
    }

    write(bytes: Buffer): void {
        this.child.stdin.write(bytes);
    }

    /** Resolves with the answer to `id`; rejects when the process exits first, or after `timeoutMs` (a deaf sidecar). */
    answer(id: string, timeoutMs = 15_000): Promise<Response> {
        const seen = this.responses.find((r) => r.id === id);
        if (seen) return Promise.resolve(seen);
        return new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`no answer to ${id} within ${timeoutMs} ms (the sidecar is deaf); stderr tail: ${this.stderr.slice(-600)}`)), timeoutMs);
            this.child.once("exit", (code) => reject(new Error(`the sidecar exited (${code}) before answering ${id}: ${this.stderr.slice(-600)}`)));
            this.waiters.set(id, (r) => {
                clearTimeout(timer);
                this.waiters.delete(id);
                resolve(r);
            });
        });
    }

    async stop(): Promise<void> {
        if (this.exited !== undefined) return;
        const exited = new Promise((resolve) => this.child.once("exit", resolve));
        this.child.stdin.end();
        await exited;
    }
}

test("each broken stream of the issue is logged and followed by an answered initialize; invalid JSON gets a parse error", async (t) => {
    const sidecar = new RawSidecar();
    try {
        const first = await (sidecar.write(initialize("first")), sidecar.answer("first"));
        assert.ok(first.result, "the first initialize succeeds");
        const cases: Array<[string, Buffer, RegExp, number | undefined]> = [
            ["garbage bytes", Buffer.from("\u0000\u00ff this is not a frame \r\n at all"), /skipped \d+ byte/, undefined],
            ["a header without Content-Length", Buffer.from("Content-Type: application/json\r\n\r\n{}"), /no Content-Length header/, undefined],
            ["a negative Content-Length", Buffer.from("Content-Length: -1\r\n\r\n{}"), /"-1" is not a whole number/, undefined],
            ["a Content-Length of 1e12", Buffer.from("Content-Length: 1e12\r\n\r\n{}"), /"1e12" is not a whole number/, undefined],
            ["a Content-Length of 10^12", Buffer.from("Content-Length: 1000000000000\r\n\r\n{}"), /exceeds the \d+-byte limit/, undefined],
            ["invalid JSON", frame('{"jsonrpc":"2.0","id":7,"method":'), /not valid UTF-8 JSON/, -32700],
            ["valid JSON that is no message", frame("[1,2,3]"), /invalid JSON-RPC message/, -32600],
            ["a length that runs into the next frame", Buffer.from("Content-Length: 4000\r\n\r\n{}"), /ran into|next frame began/, -32700]
        ];
        for (const [i, [name, bytes, logged, errorCode]] of cases.entries()) {
            const before = sidecar.responses.length;
            const stderrBefore = sidecar.stderr.length;
            sidecar.write(Buffer.concat([bytes, initialize(`probe-${i}`)]));
            const answer = await sidecar.answer(`probe-${i}`);
            assert.ok(answer.error?.code === -32010, `${name}: the initialize after it is answered (already initialized): ${JSON.stringify(answer)}`);
            t.diagnostic(`${name}: ${(await sidecar.stderrMatch(logged, stderrBefore)).trim()}`);
            if (errorCode !== undefined) {
                const replies = sidecar.responses.slice(before).filter((r) => r.id === null);
                assert.ok(replies.some((r) => r.error?.code === errorCode), `${name}: answered with ${errorCode}: ${JSON.stringify(replies)}`);
            }
        }
        assert.equal(sidecar.exited, undefined, "still alive");
    } finally {
        await sidecar.stop();
    }
});

const BASES = [
    frame({ jsonrpc: "2.0", id: 1, method: "run/list" }),
    frame({ jsonrpc: "2.0", id: "x", method: "no/such/method", params: { a: [1, 2, { b: "c" }] } }),
    frame({ jsonrpc: "2.0", method: "$/cancelRequest", params: { id: 12 } }),
    frame({ jsonrpc: "2.0", id: 99, result: { ok: true } }),
    frame({ jsonrpc: "2.0", id: 2, method: "chat/send", params: { sessionId: "none", requestId: "r", message: "hi", maxTokens: 0 } }),
    Buffer.from(`Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n${frame({ jsonrpc: "2.0", id: 3, method: "run/get", params: { runId: "r" } }).toString("latin1")}`, "latin1")
];

function mutate(rnd: () => number): Buffer {
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    let b = Buffer.from(pick(BASES));
    const rounds = 1 + Math.floor(rnd() * 3);
    for (let r = 0; r < rounds; r++) {
        const at = Math.floor(rnd() * (b.length + 1));
        switch (Math.floor(rnd() * 9)) {
            case 0: // flip a byte
                if (b.length > 0) b[Math.min(at, b.length - 1)] = Math.floor(rnd() * 256);
                break;
            case 1: // cut a range
                b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + Math.floor(rnd() * 20)))]);
                break;
            case 2: // insert random bytes
                b = Buffer.concat([b.subarray(0, at), Buffer.from(Array.from({ length: 1 + Math.floor(rnd() * 12) }, () => Math.floor(rnd() * 256))), b.subarray(at)]);
                break;
            case 3: { // another Content-Length value
                const value = pick(["-1", "0", "1", "7", "1e12", "1000000000000", "99999999999999999999", "abc", "", " 12", "4294967296", String(Math.floor(rnd() * 400))]);
                b = Buffer.from(b.toString("latin1").replace(/Content-Length: [^\r]*/, `Content-Length: ${value}`), "latin1");
                break;
            }
            case 4: // truncate
                b = b.subarray(0, at);
                break;
            case 5: // break the header terminator
                b = Buffer.from(b.toString("latin1").replace("\r\n\r\n", pick(["\r\n", "\n\n", "\r\n\r", "\r\r\n\n", ""])), "latin1");
                break;
            case 6: // pure noise
                b = Buffer.from(Array.from({ length: Math.floor(rnd() * 300) }, () => Math.floor(rnd() * 256)));
                break;
            case 7: // a header line without a colon, or a second Content-Length
                b = Buffer.concat([Buffer.from(pick(["X-Bad\r\n", "Content-Length: 3\r\n", "content-length:2\r\n", ":\r\n"])), b]);
                break;
            default: // two frames glued, the second damaged later
                b = Buffer.concat([b, pick(BASES)]);
        }
    }
    return b;
}

test("fuzz: 10,000 random and mutated frames, each followed by an initialize that is answered", { timeout: 600_000 }, async () => {
    const seed = Number(process.env.FRAMING_FUZZ_SEED ?? 7);
    const rnd = prng(seed);
    const sidecar = new RawSidecar();
    try {
        sidecar.write(initialize("first"));
        await sidecar.answer("first");
        const stderrBefore = sidecar.stderr.length;
        for (let i = 0; i < 10_000; i++) {
            const bad = mutate(rnd);
            sidecar.write(Buffer.concat([bad, initialize(`probe-${i}`)]));
            try {
                await sidecar.answer(`probe-${i}`);
            } catch (error) {
                throw new Error(`seed ${seed}, case ${i}, frame ${JSON.stringify(bad.toString("latin1"))}: ${(error as Error).message}`);
            }
        }
        const logged = sidecar.stderr.slice(stderrBefore).split("\n").filter((l) => l.includes("framing:")).length;
        console.log(`framing fuzz (seed ${seed}): 10000 probes answered; ${logged} framing problems logged; ${sidecar.responses.filter((r) => r.id === null).length} error replies with id null`);
        assert.ok(logged > 1000, `the broken frames were logged (${logged})`);
        assert.equal(sidecar.exited, undefined, "still alive");
    } finally {
        await sidecar.stop();
    }
});
