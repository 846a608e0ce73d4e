// The sidecar's frame parser (issue 12.7), byte by byte: every valid frame is delivered whatever the chunking, and
// every broken one (garbage, a header without Content-Length, a negative, non-numeric or 1e12 length, a length that
// runs into the next frame or stops inside it) is reported and followed by the next valid frame.
import { test } from "node:test";
import assert from "node:assert/strict";
import { FrameParser, MAX_FRAME_BYTES, MAX_HEADER_BYTES, type FrameProblem } from "../../../sidecar/src/rpc/frameParser";

const frame = (json: string): Buffer => {
    const body = Buffer.from(json, "utf8");
    return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`), body]);
};
const good = '{"jsonrpc":"2.0","id":"probe","method":"initialize","params":{}}';

function parse(chunks: Buffer[]): { bodies: string[]; problems: FrameProblem[] } {
    const bodies: string[] = [];
    const problems: FrameProblem[] = [];
    const parser = new FrameParser((b) => bodies.push(b.toString("utf8")), (p) => problems.push(p));
    for (const c of chunks) parser.push(c);
    return { bodies, problems };
}

/** The stream split at every byte, and in one piece: the outcome must not depend on how the pipe chunks it. */
function parseEveryWay(stream: Buffer): { bodies: string[]; problems: FrameProblem[] } {
    const whole = parse([stream]);
    const bytewise = parse([...stream].map((b) => Buffer.from([b])));
    assert.deepEqual(bytewise.bodies, whole.bodies, "byte-by-byte chunking delivers the same bodies");
    return whole;
}

test("valid frames are delivered in order however the stream is chunked, with extra headers and any header case", () => {
    const stream = Buffer.concat([frame(good), Buffer.from(`Content-Type: application/vscode-jsonrpc; charset=utf-8\r\ncontent-length: 2\r\n\r\n{}`), frame('{"a":"Content-Length: 5 inside a string"}'), frame("")]);
    const { bodies, problems } = parseEveryWay(stream);
    assert.deepEqual(bodies, [good, "{}", '{"a":"Content-Length: 5 inside a string"}', ""]);
    assert.deepEqual(problems, []);
});

const broken: Array<[string, Buffer, RegExp]> = [
    ["garbage bytes", Buffer.from("\x00\xff garbage that is no frame at all \x01\x02"), /skipped \d+ byte\(s\)/],
    ["a header without Content-Length", Buffer.from("Content-Type: application/json\r\n\r\n{}"), /no Content-Length header/],
    ["a header line without a colon", Buffer.from("Content-Length 12\r\n\r\n{}"), /skipped|no "name: value"/],
    ["a negative Content-Length", Buffer.from("Content-Length: -5\r\n\r\n{}"), /"-5" is not a whole number/],
    ["Content-Length 1e12", Buffer.from("Content-Length: 1e12\r\n\r\n{}"), /"1e12" is not a whole number/],
    ["Content-Length 1000000000000", Buffer.from("Content-Length: 1000000000000\r\n\r\n{}"), /exceeds the \d+-byte limit/],
    ["two Content-Length headers", Buffer.from("Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}"), /two Content-Length/],
    ["a charset other than UTF-8", Buffer.from("Content-Type: text/plain; charset=latin1\r\nContent-Length: 2\r\n\r\n{}"), /charset other than UTF-8/],
    ["a length longer than the body", Buffer.from("Content-Length: 500\r\n\r\n{}"), /declared Content-Length 500 but the next frame began after 2 byte/],
    ["a length that stops in the next header", Buffer.from("Content-Length: 7\r\n\r\n{}"), /declared Content-Length 7 but the next frame began after 2 byte/],
    ["a header with no end", Buffer.from(`X-Long: ${"a".repeat(MAX_HEADER_BYTES + 10)}`), /no end of header within/],
    ["garbage that looks like a header", Buffer.from("abc:def"), /unknown header "abc"/]
];

for (const [name, bad, reason] of broken) {
    test(`${name}: reported, and the next frame is read`, () => {
        const { bodies, problems } = parseEveryWay(Buffer.concat([bad, frame(good)]));
        assert.equal(bodies.at(-1), good, `the frame after it is delivered: ${JSON.stringify(bodies)}`);
        assert.ok(problems.some((p) => reason.test(p.message)), `reported as ${reason}: ${JSON.stringify(problems.map((p) => p.message))}`);
    });
}

test("a length shorter than the body delivers the cut body (a parse error upstream) and skips the rest to the next frame", () => {
    const { bodies, problems } = parseEveryWay(Buffer.concat([Buffer.from('Content-Length: 5\r\n\r\n{"a":"b"}'), frame(good)]));
    assert.deepEqual(bodies, ['{"a":', good]);
    assert.ok(problems.some((p) => p.kind === "garbage"));
});

test("garbage is dropped as it arrives, so the buffer never grows without bound", () => {
    const parser = new FrameParser(() => undefined, () => undefined);
    for (let i = 0; i < 100; i++) parser.push(Buffer.alloc(1 << 20, 0x41 + (i % 3)));
    assert.ok((parser as unknown as { pending: Buffer }).pending.length < 64, "at most a possible marker prefix is kept");
    assert.ok(MAX_FRAME_BYTES >= 1 << 20);
});
