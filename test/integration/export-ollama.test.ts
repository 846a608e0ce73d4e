// The Ollama export: every chat template of llama.cpp's bundle (models/templates/) that LoRA Studio maps to an
// Ollama TEMPLATE is rendered both ways, by @huggingface/jinja as training and chat render it and by Go's own
// text/template (test/oracle/ollama_template.go, with Ollama's message collation), and the prompts must be equal
// strings. Families that must be recognized are listed by file, so a detection regression fails here. The
// Jinja side gets Mistral's EOS text ("</s>"), which [INST] templates print after every answer. The Modelfile of
// the tiny model is checked against a golden text.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { runExport } from "../../sidecar/src/export";
import { ollamaTemplateFor, PROBE_CONVERSATIONS, renderJinjaLikeChat, type ChatTurn } from "../../sidecar/src/export/ollamaTemplate";
import { makeTinyModel } from "../../sidecar/src/tinyModel/makeTinyModel";
import { readGguf } from "../../sidecar/src/gguf";
import { llamaCppSourceDir } from "../../sidecar/src/tinyModel/bundleAssets";
import { factsAdapter, type FactsAdapter } from "../oracle/trainedAdapter";
import { repoRoot } from "../oracle/torchReference";

const dir = mkdtempSync(join(tmpdir(), "export-ollama-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Templates that must map, by file name, to this family. */
const EXPECTED: Record<string, string> = {
    "Qwen-Qwen2.5-7B-Instruct.jinja": "chatml",
    "Qwen-Qwen3-0.6B.jinja": "chatml",
    "meta-llama-Llama-3.1-8B-Instruct.jinja": "llama3",
    "meta-llama-Llama-3.2-3B-Instruct.jinja": "llama3",
    "meta-llama-Llama-3.3-70B-Instruct.jinja": "llama3",
    "microsoft-Phi-3.5-mini-instruct.jinja": "phi3",
    "google-gemma-2-2b-it.jinja": "gemma",
    "google-gemma-4-31B-it.jinja": "gemma4",
    "mistralai-Mistral-Nemo-Instruct-2407.jinja": "mistral",
    "mistralai-Ministral-3-14B-Reasoning-2512.jinja": "mistral",
    "unsloth-mistral-Devstral-Small-2507.jinja": "mistral"
};

/** The EOS text of Mistral's vocabularies (SentencePiece v3 and Tekken alike). */
const EOS = "</s>";

/** More conversations than the detection probes: several turns, joined same-role messages, text that looks like template syntax. */
const CONVERSATIONS: ChatTurn[][] = [
    ...PROBE_CONVERSATIONS.map((c) => [...c]),
    [
        { role: "system", content: "Answer in French." },
        { role: "user", content: "Capital of Italy?" },
        { role: "assistant", content: "Rome." },
        { role: "user", content: "And {{ .System }} of Spain? {% raw %}" },
        { role: "assistant", content: "Madrid, <b>bien sûr</b> ✓" },
        { role: "user", content: "Thanks" }
    ],
    [{ role: "user", content: "First line" }, { role: "user", content: "second message" }]
];

/**
 * Mistral [INST] templates differ in where a system prompt goes (the last user turn, a [SYSTEM_PROMPT] block, in
 * place) and in what a system message after the first does (the template raises and chat folds it into a user
 * message, or it is printed in place), so their TEMPLATEs must also agree on these. The other families' TEMPLATEs
 * put every system message at the top, which their Jinja does not do for a late one: not claimed for them.
 */
const MISTRAL_CONVERSATIONS: ChatTurn[][] = [
    [{ role: "user", content: "Hi" }, { role: "assistant", content: "Hello." }, { role: "system", content: "Be brief." }, { role: "user", content: "Why?" }],
    [{ role: "system", content: "You are terse." }, { role: "user", content: "Q1" }, { role: "assistant", content: "A1" }, { role: "system", content: "Now verbose." }, { role: "user", content: "Q2" }],
    [{ role: "user", content: "Before" }, { role: "system", content: "Mid" }, { role: "user", content: "After" }],
    [{ role: "system", content: "" }, { role: "user", content: "Empty system prompt" }],
    [{ role: "system", content: "Sys" }, { role: "user", content: "Q" }, { role: "assistant", content: "A continued" }]
];

/** Go comes from Debian's golang-go (.ci/run installs it); outside CI its absence skips the Go renderings by name. */
const goMissing = spawnSync("go", ["version"]).status !== 0;
const goSkip: string | false = goMissing && !process.env.CI ? "Go is not installed (apt-get install golang-go): cannot render TEMPLATEs with text/template" : false;

let goRenderer = "";
function renderWithGo(template: string, conversations: ChatTurn[][]): string[] {
    const r = spawnSync(goRenderer, { input: JSON.stringify({ template, conversations }), encoding: "utf8" });
    assert.equal(r.status, 0, `Go text/template failed: ${r.stderr}\n--- template ---\n${template}`);
    return JSON.parse(r.stdout) as string[];
}

before(() => {
    if (goSkip) return;
    // Go's text/template is Ollama's template engine.
    goRenderer = join(dir, "render");
    execFileSync("go", ["build", "-o", goRenderer, join(repoRoot(), "test", "oracle", "ollama_template.go")], {
        env: { ...process.env, GOCACHE: join(tmpdir(), "lora-studio-go-cache"), GOPATH: join(dir, "gopath"), GOFLAGS: "-mod=mod", CGO_ENABLED: "0" },
        stdio: ["ignore", "ignore", "pipe"]
    });
});

describe("Ollama TEMPLATE for the bundle's chat templates", () => {
    const templatesDir = join(llamaCppSourceDir(), "models", "templates");
    const files = readdirSync(templatesDir).filter((f) => f.endsWith(".jinja")).sort();

    test("the families LoRA Studio supports are recognized", () => {
        for (const [file, family] of Object.entries(EXPECTED)) {
            const r = ollamaTemplateFor(readFileSync(join(templatesDir, file), "utf8"), EOS);
            assert.ok(r.ok, `${file}: ${r.ok ? "" : r.reason}`);
            assert.equal(r.value.family, family, file);
        }
        // Its default system prompt prints today's date: no fixed TEMPLATE reproduces it.
        const dated = ollamaTemplateFor(readFileSync(join(templatesDir, "Mistral-Small-3.2-24B-Instruct-2506.jinja"), "utf8"), EOS);
        assert.equal(dated.ok, false);
        assert.match(dated.ok ? "" : dated.reason, /looks like mistral .*strftime_now/);
        // Mistral templates print EOS after each answer; without the vocabulary's EOS text there is no TEMPLATE.
        const noEos = ollamaTemplateFor(readFileSync(join(templatesDir, "mistralai-Mistral-Nemo-Instruct-2407.jinja"), "utf8"));
        assert.match(noEos.ok ? "" : noEos.reason, /no end-of-sequence token/);
        const none = ollamaTemplateFor(readFileSync(join(templatesDir, "llama-cpp-rwkv-world.jinja"), "utf8"), EOS);
        assert.match(none.ok ? "" : none.reason, /not one of the families/);
    });

    for (const file of files) {
        const source = readFileSync(join(templatesDir, file), "utf8");
        const mapped = ollamaTemplateFor(source, EOS);
        if (!mapped.ok) continue; // unsupported: the Modelfile omits TEMPLATE and warns (tested below)
        const conversations = mapped.value.family === "mistral" ? [...CONVERSATIONS, ...MISTRAL_CONVERSATIONS] : CONVERSATIONS;
        test(`${file} (${mapped.value.family}): Go renders what Jinja renders`, { skip: goSkip }, () => {
            const go = renderWithGo(mapped.value.template, conversations);
            conversations.forEach((turns, i) => {
                assert.equal(go[i], renderJinjaLikeChat(source, turns, true, EOS), `conversation ${i + 1}`);
            });
        });
    }
});

describe("the Modelfile", () => {
    let fx: FactsAdapter;
    before(async () => {
        fx = await factsAdapter();
    });

    test("of the tiny model (Phi-3 template) matches the golden text", async () => {
        const out = join(dir, "tiny");
        const r = await runExport({ format: "ollama", model: fx.model, adapter: fx.adapter, out: join(out, "Modelfile"), system: "You answer with one word." });
        assert.deepEqual(r.warnings, []);
        const golden = [
            `FROM ${resolve(fx.model)}`,
            `ADAPTER ${resolve(fx.adapter)}`,
            'TEMPLATE """{{- range .Messages }}{{ if eq .Role "system" }}{{ if .Content }}<|system|>',
            "{{ .Content }}<|end|>",
            '{{ end }}{{ else if eq .Role "user" }}<|user|>',
            "{{ .Content }}<|end|>",
            '{{ else if eq .Role "assistant" }}<|assistant|>',
            "{{ .Content }}<|end|>",
            "{{ end }}{{ end }}<|assistant|>",
            '"""',
            'PARAMETER stop "<|end|>"',
            'PARAMETER stop "<|endoftext|>"',
            'PARAMETER stop "<|user|>"',
            'PARAMETER stop "<|assistant|>"',
            'SYSTEM """You answer with one word."""',
            ""
        ].join("\n");
        assert.equal(readFileSync(join(out, "Modelfile"), "utf8"), golden);
    });

    test("of a model with a Mistral template prints the vocabulary's EOS after each answer", { skip: goSkip }, async () => {
        const model = join(dir, "tiny-mistral-nemo-template.gguf");
        makeTinyModel({ out: model, quant: "f32", template: "mistralai-Mistral-Nemo-Instruct-2407" });
        const eos = (() => {
            const gguf = readGguf(model);
            const id = gguf.kv.get("tokenizer.ggml.eos_token_id")!.value as number;
            const tokens = gguf.kv.get("tokenizer.ggml.tokens")!.value as string[];
            return tokens[id]!;
        })();
        assert.notEqual(eos, "");
        const out = join(dir, "mistral.Modelfile");
        const r = await runExport({ format: "ollama", model, adapter: fx.adapter, out });
        assert.deepEqual(r.warnings, []);
        const text = readFileSync(out, "utf8");
        const template = /^TEMPLATE """([\s\S]*?)"""$/m.exec(text)?.[1];
        assert.ok(template, text);
        assert.ok(text.includes(`PARAMETER stop ${JSON.stringify(eos)}\nPARAMETER stop "[INST]"\nPARAMETER stop "[/INST]"\n`), text);
        const source = readFileSync(join(llamaCppSourceDir(), "models", "templates", "mistralai-Mistral-Nemo-Instruct-2407.jinja"), "utf8");
        const go = renderWithGo(template, CONVERSATIONS);
        CONVERSATIONS.forEach((turns, i) => assert.equal(go[i], renderJinjaLikeChat(source, turns, true, eos), `conversation ${i + 1}`));
        assert.ok(go[1]!.includes(`[/INST]Hello! How can I help?${eos}[INST]`), go[1]);
    });

    test("of a model with an unsupported template omits TEMPLATE and says why", async () => {
        const model = join(dir, "tiny-mistral-small-template.gguf");
        makeTinyModel({ out: model, quant: "f32", template: "Mistral-Small-3.2-24B-Instruct-2506" });
        const out = join(dir, "mistral-small.Modelfile");
        const r = await runExport({ format: "ollama", model, adapter: fx.adapter, out });
        assert.equal(r.warnings.length, 1);
        assert.match(r.warnings[0]!, /No TEMPLATE written: .*strftime_now/);
        const text = readFileSync(out, "utf8");
        assert.doesNotMatch(text, /TEMPLATE|PARAMETER stop/);
        assert.match(text, /^FROM .*\nADAPTER .*\n$/);
    });
});
