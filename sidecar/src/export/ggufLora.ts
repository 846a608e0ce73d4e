// The adapter as is: a GGUF LoRA for llama.cpp, LM Studio, node-llama-cpp or Ollama's ADAPTER. Checked against
// the base first (so a mismatched pair fails here, not in the user's runtime), then copied atomically and the
// copy's magic verified.
import { closeSync, copyFileSync, mkdirSync, openSync, readSync } from "node:fs";
import { dirname } from "node:path";
import { GGUF_MAGIC } from "../gguf";
import { commitAtomic } from "../training/atomicFile";
import { checkAdapterFitsBase, ExportInputError, openGguf, readLoraAdapter } from "./adapter";

export async function exportGgufLora(opts: { model: string; adapter: string; out: string }): Promise<void> {
    const adapter = readLoraAdapter(opts.adapter);
    checkAdapterFitsBase(adapter, openGguf(opts.model, "base model"));
    mkdirSync(dirname(opts.out), { recursive: true });
    await commitAtomic(opts.out, (temp) => {
        copyFileSync(opts.adapter, temp);
        const head = Buffer.alloc(4);
        const fd = openSync(temp, "r");
        try {
            readSync(fd, head, 0, 4, 0);
        } finally {
            closeSync(fd);
        }
        if (head.readUInt32LE(0) !== GGUF_MAGIC) throw new ExportInputError(`the copy of ${opts.adapter} does not start with the GGUF magic; the disk may be full`);
    });
}
