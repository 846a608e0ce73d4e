// `lora-studio models pull`: downloads one GGUF into a models folder, resumably.
//
// Why not node-llama-cpp's createModelDownloader (3.22.1): it downloads through ipull, whose partial file is
// `<file>.ipull` with ipull's own resume state appended after the data, split over parallel connections that ipull
// retries by itself. Its resume is therefore opaque (a test cannot check that the second pull asked for exactly the
// missing bytes, or that the result is byte-identical), and a dropped connection turns into ipull's internal retry
// loop rather than an error we can report. A single HTTP GET with `Range: bytes=<partial size>-` on a plain `.partial`
// file is ~150 lines, has one failure mode per cause, and works the same against huggingface.co and a test server.
//
// What happens on each outcome:
// - done: the finished `.partial` is checked as a readable GGUF base model (gguf/openModelFile.ts) and only then
//   renamed to its final name, so a listed model is never half a file;
// - not a GGUF (an HTML error page, a login wall): the partial is deleted and the reason reported;
// - HTTP 404 / 401 / 403 / other: reported with the status and URL; no partial is left;
// - a dropped connection or a killed process: the partial stays, and pulling the same URI again resumes it;
// - cancel (AbortSignal; the CLI's Ctrl+C): the partial stays, resumable the same way;
// - a write that fails (a full disk): the partial is removed, freeing its space, and the cause reported.
// `hf:<org>/<repo>/<path>.gguf` resolves to <endpoint>/<org>/<repo>/resolve/main/<path>, where the endpoint is
// $HF_ENDPOINT (huggingface_hub's variable for a mirror), else https://huggingface.co; $HF_TOKEN, when set, is sent to
// that endpoint only (gated models), never to the CDN it redirects to.
import { createWriteStream, existsSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { join, resolve } from "node:path";
import { ModelFileError, openModelFile } from "../gguf";
import { factsOfHeader } from "./modelFacts";
import type { ModelFacts } from "./types";

export const PARTIAL_SUFFIX = ".partial";
const HEADER_ARRAY_LIMIT = 4096;
const MAX_REDIRECTS = 8;

export type ModelPullProblem = "bad-uri" | "http" | "not-gguf" | "cancelled" | "interrupted" | "io";

export class ModelPullError extends Error {
    constructor(readonly problem: ModelPullProblem, message: string, readonly partialFile?: string) {
        super(message);
        this.name = "ModelPullError";
    }
}

export interface PullProgress {
    downloadedBytes: number;
    /** 0 while unknown (a server that sends no Content-Length). */
    totalBytes: number;
    /** Bytes that were already in the partial file when this pull started. */
    resumedFrom: number;
}

export interface PullOptions {
    /** `hf:<org>/<repo>/<path>.gguf`, or an https:// or http:// URL. */
    uri: string;
    /** The models folder; created when missing. */
    dir: string;
    onProgress?: (progress: PullProgress) => void;
    /** Cancels the download; the partial file is kept for the next pull to resume. */
    signal?: AbortSignal;
    env?: Readonly<Record<string, string | undefined>>;
}

export interface PullResult {
    path: string;
    facts: ModelFacts;
    /** The file was already complete in the folder: nothing was downloaded. */
    alreadyPresent: boolean;
    /** Bytes taken over from an earlier, interrupted pull. */
    resumedFrom: number;
}

export interface ResolvedUri {
    url: string;
    /** The final file's name in the models folder. */
    fileName: string;
    /** Send $HF_TOKEN to this origin. */
    tokenOrigin?: string;
}

/** The URL to fetch and the file name to write, or a ModelPullError("bad-uri"). */
export function resolvePullUri(uri: string, env: Readonly<Record<string, string | undefined>> = process.env): ResolvedUri {
    const hf = /^hf:([^/\s]+)\/([^/\s]+)\/([^\s#?]+\.gguf)$/i.exec(uri);
    if (hf) {
        const [, org, repo, path] = hf as unknown as [string, string, string, string];
        const endpoint = (env.HF_ENDPOINT?.trim() || "https://huggingface.co").replace(/\/+$/, "");
        const url = `${endpoint}/${org}/${repo}/resolve/main/${path.split("/").map(encodeURIComponent).join("/")}`;
        return { url, fileName: path.split("/").pop()!, tokenOrigin: new URL(url).origin };
    }
    if (/^https?:\/\//i.test(uri)) {
        let parsed: URL;
        try {
            parsed = new URL(uri);
        } catch {
            throw new ModelPullError("bad-uri", `'${uri}' is not a valid URL`);
        }
        const last = decodeURIComponent(parsed.pathname.split("/").pop() ?? "");
        if (!/^[^<>:"/\\|?*\u0000-\u001f]+\.gguf$/i.test(last)) throw new ModelPullError("bad-uri", `${uri}: the URL's path must end in a file name like model.gguf`);
        return { url: parsed.href, fileName: last };
    }
    throw new ModelPullError("bad-uri", `'${uri}' is not a model URI: give hf:<org>/<repo>/<file>.gguf, or an https:// or http:// URL of a .gguf file`);
}

function fileSize(path: string): number {
    try {
        return statSync(path).size;
    } catch {
        return 0;
    }
}

/** Checks a finished download as a GGUF base model; deletes it and throws when it is not one. */
function verifyDownloaded(uri: string, partial: string): ModelFacts {
    try {
        return factsOfHeader(openModelFile(partial, { skipArraysOver: HEADER_ARRAY_LIMIT }));
    } catch (error) {
        if (!(error instanceof ModelFileError)) throw error;
        rmSync(partial, { force: true });
        throw new ModelPullError("not-gguf", `${uri} did not download a GGUF model, so the downloaded file was deleted: ${error.message}`);
    }
}

/** GET with redirects followed; resolves once the final response's headers are in. */
function get(url: string, headers: Record<string, string>, token: { origin: string; value: string } | undefined, signal: AbortSignal | undefined, redirects = 0): Promise<IncomingMessage> {
    return new Promise((settle, fail) => {
        const target = new URL(url);
        const send = target.protocol === "https:" ? httpsRequest : httpRequest;
        const auth = token && target.origin === token.origin ? { authorization: `Bearer ${token.value}` } : {};
        const req = send(target, { headers: { "user-agent": "lora-studio", ...headers, ...auth }, ...(signal ? { signal } : {}) }, (res) => {
            const status = res.statusCode ?? 0;
            if (status >= 300 && status < 400 && res.headers.location) {
                res.resume();
                if (redirects >= MAX_REDIRECTS) return fail(new Error(`more than ${MAX_REDIRECTS} redirects`));
                return get(new URL(res.headers.location, target).href, headers, token, signal, redirects + 1).then(settle, fail);
            }
            settle(res);
        });
        req.on("error", fail);
        req.end();
    });
}

function httpProblem(uri: string, url: string, res: IncomingMessage): ModelPullError {
    const status = res.statusCode ?? 0;
    const what = status === 404 ? "not found" : status === 401 || status === 403 ? "access denied (a gated model needs HF_TOKEN set to a Hugging Face token that has accepted its licence)" : "refused";
    return new ModelPullError("http", `${uri}: ${what} (HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ""} from ${url})`);
}

/** Downloads `options.uri` into `options.dir` (see the header for what happens on each outcome). */
export async function pullModel(options: PullOptions): Promise<PullResult> {
    const env = options.env ?? process.env;
    const { url, fileName, tokenOrigin } = resolvePullUri(options.uri, env);
    const dir = resolve(options.dir);
    const path = join(dir, fileName);
    const partial = `${path}${PARTIAL_SUFFIX}`;
    if (existsSync(path)) {
        try {
            return { path, facts: factsOfHeader(openModelFile(path, { skipArraysOver: HEADER_ARRAY_LIMIT })), alreadyPresent: true, resumedFrom: 0 };
        } catch (error) {
            if (!(error instanceof ModelFileError)) throw error;
            throw new ModelPullError("io", `${path} already exists and is not a readable GGUF model (${error.message}); move or delete it first`);
        }
    }
    try {
        mkdirSync(dir, { recursive: true });
    } catch (error) {
        throw new ModelPullError("io", `cannot create the models folder ${dir}: ${(error as Error).message}`);
    }
    const cancelled = (): ModelPullError => {
        const kept = fileSize(partial) > 0 ? partial : undefined;
        if (!kept) rmSync(partial, { force: true });
        return new ModelPullError("cancelled", `${options.uri}: cancelled${kept ? `; the partial file ${kept} is kept, and pulling the same URI again resumes it` : ""}`, kept);
    };
    if (options.signal?.aborted) throw cancelled();

    const have = fileSize(partial);
    const token = tokenOrigin && env.HF_TOKEN ? { origin: tokenOrigin, value: env.HF_TOKEN } : undefined;
    let res: IncomingMessage;
    try {
        res = await get(url, have > 0 ? { range: `bytes=${have}-` } : {}, token, options.signal);
    } catch (error) {
        if (options.signal?.aborted) throw cancelled();
        throw new ModelPullError("interrupted", `${options.uri}: could not reach ${url}: ${(error as Error).message}`, have > 0 ? partial : undefined);
    }
    const status = res.statusCode ?? 0;
    let resumedFrom = 0;
    if (status === 416 && have > 0) {
        // The partial already holds every byte (a pull killed between the last byte and the rename).
        res.resume();
        resumedFrom = have;
    } else {
        if (status !== 200 && status !== 206) {
            res.resume();
            throw httpProblem(options.uri, url, res);
        }
        // 206: the server continues our partial; 200: it ignored the Range, so start over.
        const append = status === 206 && have > 0;
        const rangeStart = Number(/^bytes (\d+)-/.exec(String(res.headers["content-range"] ?? ""))?.[1] ?? Number.NaN);
        if (append && rangeStart !== have) {
            res.resume();
            rmSync(partial, { force: true });
            throw new ModelPullError("http", `${options.uri}: asked ${url} for the bytes from ${have} on, and it answered with Content-Range ${JSON.stringify(res.headers["content-range"] ?? "")}; the partial file was removed, so pulling again starts over`);
        }
        resumedFrom = append ? have : 0;
        const length = Number(res.headers["content-length"] ?? Number.NaN);
        const totalBytes = Number.isFinite(length) ? resumedFrom + length : 0;
        let downloadedBytes = resumedFrom;
        await new Promise<void>((settle, fail) => {
            const out = createWriteStream(partial, { flags: append ? "a" : "w" });
            let failure: ModelPullError | undefined;
            const stop = (problem: ModelPullError): void => {
                failure ??= problem;
                res.destroy();
                out.end();
            };
            res.on("data", (chunk: Buffer) => {
                downloadedBytes += chunk.length;
                options.onProgress?.({ downloadedBytes, totalBytes, resumedFrom });
            });
            res.on("aborted", () => stop(new ModelPullError("interrupted", `${options.uri}: the connection was lost after ${downloadedBytes} bytes; pulling again resumes from ${partial}`, partial)));
            res.on("error", (error) => stop(options.signal?.aborted ? cancelled() : new ModelPullError("interrupted", `${options.uri}: the download failed after ${downloadedBytes} bytes (${error.message}); pulling again resumes from ${partial}`, partial)));
            out.on("error", (error: NodeJS.ErrnoException) => {
                // A write that fails (a full disk above all) removes the partial: keeping it would hold on to the
                // space the user must free, and a resume could not write the rest either.
                const cause = error.code === "ENOSPC" ? "no space left on device" : error.message;
                failure ??= new ModelPullError("io", `${options.uri}: cannot write ${partial}: ${cause}; the partial file was removed`);
                res.destroy();
            });
            out.on("close", () => {
                if (!failure && totalBytes > 0 && downloadedBytes !== totalBytes) {
                    failure = new ModelPullError("interrupted", `${options.uri}: the connection closed after ${downloadedBytes} of ${totalBytes} bytes; pulling again resumes from ${partial}`, partial);
                }
                if (failure) fail(failure);
                else settle();
            });
            res.pipe(out);
        }).catch((error: unknown) => {
            if (error instanceof ModelPullError && error.problem === "io") {
                rmSync(partial, { force: true });
                throw error;
            }
            if (options.signal?.aborted) throw cancelled();
            throw error;
        });
    }
    const facts = verifyDownloaded(options.uri, partial);
    renameSync(partial, path);
    return { path, facts, alreadyPresent: false, resumedFrom };
}
