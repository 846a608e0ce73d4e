// vscode-jsonrpc's MessageReader over FrameParser (frameParser.ts): frames that are not valid JSON-RPC are answered
// with the JSON-RPC error the spec asks for (-32700 parse error, -32600 invalid request, id null unless the request's
// id can be read) through `reply`, and every framing problem is reported through `log`. The connection never sees
// them, so it keeps answering the frames after them.
import { AbstractMessageReader, type DataCallback, type Disposable, type Message, type MessageReader, type ResponseMessage } from "vscode-jsonrpc";
import { FrameParser, type FrameProblem } from "./frameParser";

export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;

export interface FrameReaderHooks {
    /** Writes an error response (the connection's writer). */
    reply(response: ResponseMessage): void;
    /** One line for the sidecar's log (stderr), saying what was wrong and what was done. */
    log(message: string): void;
}

type Id = string | number | null;

/** What vscode-jsonrpc accepts as a request, notification or response (messages.ts's Message.isRequest & co). */
function classify(value: unknown): { message: Message } | { error: string; id: Id } {
    if (Array.isArray(value)) return { error: "batch requests are not supported; send one message per frame", id: null };
    if (typeof value !== "object" || value === null) return { error: `a frame must hold a JSON object, not ${value === null ? "null" : typeof value}`, id: null };
    const m = value as Record<string, unknown>;
    const id = m.id;
    const validId = typeof id === "string" || (typeof id === "number" && Number.isFinite(id));
    const replyId: Id = validId ? (id as string | number) : null;
    if (typeof m.method === "string") {
        if (m.method === "$/cancelRequest" && (typeof m.params !== "object" || m.params === null || !["string", "number"].includes(typeof (m.params as { id?: unknown }).id))) {
            return { error: `"$/cancelRequest" needs params {id: string | number}`, id: null };
        }
        if (id === undefined || validId) return { message: m as unknown as Message };
        return { error: `"id" must be a string or a number, got ${JSON.stringify(id)?.slice(0, 40)}`, id: null };
    }
    if (m.method !== undefined) return { error: `"method" must be a string`, id: replyId };
    if ((validId || id === null) && ("result" in m || (typeof m.error === "object" && m.error !== null))) return { message: m as unknown as Message };
    return { error: "the object is neither a request, a notification nor a response", id: replyId };
}

const decoder = new TextDecoder("utf-8", { fatal: true });

export class FrameReader extends AbstractMessageReader implements MessageReader {
    constructor(private readonly input: NodeJS.ReadableStream, private readonly hooks: FrameReaderHooks) {
        super();
    }

    listen(callback: DataCallback): Disposable {
        const error = (code: number, message: string, id: Id): void => {
            this.hooks.reply({ jsonrpc: "2.0", id, error: { code, message } });
        };
        const parser = new FrameParser(
            (body) => {
                let value: unknown;
                try {
                    value = JSON.parse(decoder.decode(body));
                } catch (e) {
                    this.hooks.log(`framing: a ${body.length}-byte frame is not valid UTF-8 JSON (${(e as Error).message.slice(0, 80)}); answered with a parse error`);
                    error(PARSE_ERROR, `Parse error: the frame is not valid JSON`, null);
                    return;
                }
                const kind = classify(value);
                if ("error" in kind) {
                    this.hooks.log(`framing: invalid JSON-RPC message (${kind.error}); answered with an invalid-request error`);
                    error(INVALID_REQUEST, `Invalid Request: ${kind.error}`, kind.id);
                    return;
                }
                try {
                    callback(kind.message);
                } catch (e) {
                    // vscode-jsonrpc handles some notifications synchronously ($/cancelRequest reads params.id): a
                    // malformed one throws here. Logged and dropped, so the frames after it are still read.
                    this.hooks.log(`framing: a message could not be handled (${(e as Error).message.slice(0, 120)}); dropped`);
                }
            },
            (problem: FrameProblem) => {
                this.hooks.log(`framing: ${problem.message}`);
                if (problem.kind === "overrun") error(PARSE_ERROR, "Parse error: the frame's Content-Length ran into the next frame", null);
            }
        );
        const onData = (chunk: Buffer | string): void => {
            try {
                parser.push(typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk);
            } catch (e) {
                // The parser has no known throw; should one appear, the connection must hear of it rather than go deaf.
                this.fireError(e);
            }
        };
        const onError = (e: Error): void => this.fireError(e);
        const onEnd = (): void => this.fireClose();
        this.input.on("data", onData);
        this.input.on("error", onError);
        this.input.on("end", onEnd);
        this.input.on("close", onEnd);
        return {
            dispose: () => {
                this.input.off("data", onData);
                this.input.off("error", onError);
                this.input.off("end", onEnd);
                this.input.off("close", onEnd);
            }
        };
    }
}
