// The Ollama export: every chat template of llama.cpp's bundle (models/templates/) that LoRA Studio maps to an
// Ollama TEMPLATE is rendered both ways, by @huggingface/jinja as training and chat render it and by Go's own
// text/template (test/oracle/ollama_template.go, with Ollama's message collation), and the prompts must be equal
// strings. Families that must be recognized are listed by file, so a detection regression fails here. The
// Modelfile of the tiny model is checked against a golden text.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { runExport } from "../../sidecar/src/export";
import { ollamaTemplateFor, PROBE_CONVERSATIONS, renderJinjaLikeChat, type ChatTurn } from "../../sidecar/src/export/ollamaTemplate";
import { makeTinyModel } from "../../sidecar/src/tinyModel/makeTinyModel";
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
    "google-gemma-2-2b-it.jinja": "gemma"
};

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
            const r = ollamaTemplateFor(readFileSync(join(templatesDir, file), "utf8"));
            assert.ok(r.ok, `${file}: ${r.ok ? "" : r.reason}`);
            assert.equal(r.value.family, family, file);
        }
        const mistral = ollamaTemplateFor(readFileSync(join(templatesDir, "mistralai-Mistral-Nemo-Instruct-2407.jinja"), "utf8"));
        assert.equal(mistral.ok, false);
        assert.match(mistral.ok ? "" : mistral.reason, /not one of the families/);
    });

    for (const file of files) {
        const source = readFileSync(join(templatesDir, file), "utf8");
        const mapped = ollamaTemplateFor(source);
        if (!mapped.ok) continue; // unsupported: the Modelfile omits TEMPLATE and warns (tested below)
        test(`${file} (${mapped.value.family}): Go renders what Jinja renders`, { skip: goSkip }, () => {
            const go = renderWithGo(mapped.value.template, CONVERSATIONS);
            CONVERSATIONS.forEach((turns, i) => {
                assert.equal(go[i], renderJinjaLikeChat(source, turns), `conversation ${i + 1}`);
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

    test("of a model with an unsupported template omits TEMPLATE and says why", async () => {
        const model = join(dir, "tiny-mistral-template.gguf");
        makeTinyModel({ out: model, quant: "f32", template: "mistralai-Mistral-Nemo-Instruct-2407" });
        const out = join(dir, "mistral.Modelfile");
        const r = await runExport({ format: "ollama", model, adapter: fx.adapter, out });
        assert.equal(r.warnings.length, 1);
        assert.match(r.warnings[0]!, /No TEMPLATE written: .*not one of the families/);
        const text = readFileSync(out, "utf8");
        assert.doesNotMatch(text, /TEMPLATE|PARAMETER stop/);
        assert.match(text, /^FROM .*\nADAPTER .*\n$/);
    });
});
