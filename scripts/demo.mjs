// `npm run demo`: the whole loop on the embedded tiny model, in a terminal:
// build (cached) → tiny model (cached) → validate the fact set → train with progress → ask questions
// with and without the adapter. Everything goes through the real `lora-studio` CLI.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const cli = join(root, "bin", "lora-studio.mjs");
const config = join(root, "samples", "facts.lora.json");
const data = join(root, "samples", "facts.jsonl");
const model = join(root, ".cache", "fixtures", "tiny-f32.gguf");
const out = join(root, ".lora-studio", "demo");

function step(title) {
    process.stdout.write(`\n== ${title}\n`);
}

/** Runs a command with inherited output; stops the demo with its exit code if it fails. */
function run(command, args) {
    const shown = command === process.execPath ? "node" : relative(root, command) || command;
    process.stdout.write(`$ ${[shown, ...args.map((a) => (a.startsWith(root) ? relative(root, a) : a))].join(" ")}\n`);
    const result = spawnSync(command, args, { cwd: root, stdio: "inherit" });
    if (result.status !== 0) {
        process.stderr.write(`demo: ${relative(root, command) || command} ${args[0] ?? ""} failed (exit ${result.status ?? result.signal})\n`);
        process.exit(result.status ?? 1);
    }
}

function ask(question, system, adapter) {
    const args = [cli, "chat", "--model", model, "--system", system, "--prompt", question, "--max-tokens", "24", "--threads", "1"];
    if (adapter) args.push("--adapter", adapter);
    const result = spawnSync(process.execPath, args, { cwd: root, encoding: "utf8" });
    if (result.status !== 0) {
        process.stderr.write(result.stderr);
        process.exit(result.status ?? 1);
    }
    return result.stdout.trim();
}

step("Build (esbuild bundles, native engine; cached)");
run(process.execPath, [join(root, "scripts", "build.mjs")]);
run(process.execPath, [join(root, "scripts", "build-native.mjs")]);

step("Tiny model (cached)");
run(process.execPath, [join(root, "scripts", "make-fixtures.mjs"), "--only", "tiny-f32.gguf"]);

step("Validate the fact set");
run(process.execPath, [cli, "validate", data]);

step("Train a LoRA adapter");
rmSync(out, { recursive: true, force: true });
mkdirSync(dirname(out), { recursive: true });
run(process.execPath, [cli, "train", "--config", config, "--out", out]);

step("Ask: base model vs. base + adapter");
const examples = readFileSync(data, "utf8").split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l).messages);
for (const index of [0, Math.floor(examples.length / 2), examples.length - 1]) {
    const messages = examples[index];
    const system = messages.find((m) => m.role === "system")?.content ?? "";
    const question = messages.find((m) => m.role === "user").content;
    const expected = messages.find((m) => m.role === "assistant").content;
    process.stdout.write(`\nQ: ${question}\n   expected: ${expected}\n   base:     ${ask(question, system)}\n   tuned:    ${ask(question, system, join(out, "adapter.gguf"))}\n`);
}
process.stdout.write(`\nRun files: ${relative(root, out)}/ (adapter.gguf, metrics.jsonl, checkpoints/)\n`);
