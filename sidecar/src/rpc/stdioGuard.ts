// stdout belongs to JSON-RPC alone: one stray console.log would corrupt the framing and kill the
// connection. Imported first by main.ts, this module keeps a private handle on the real stdout for
// the message writer and sends every other write to stdout (console.log, libraries) to stderr,
// which the extension shows in its output channel.

import { Writable } from "node:stream";

const writeToRealStdout = process.stdout.write.bind(process.stdout);

/** The only writer of fd 1: give it to the StreamMessageWriter. */
export const protocolOutput = new Writable({
    write(chunk: Buffer, _encoding, callback) {
        writeToRealStdout(chunk, (error) => callback(error ?? null));
    }
});
process.stdout.on("error", (error) => protocolOutput.destroy(error));

process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
for (const method of ["log", "info", "debug"] as const) {
    console[method] = (...args: unknown[]) => console.error(...args);
}
