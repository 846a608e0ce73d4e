// docs/architectures.md carries the per-architecture target mapping as a table; it must be the table that
// engine/architectures.ts (what training, the diagnostics and export use) produces, so the doc cannot drift.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ARCHITECTURES, TRAINABLE_ARCHITECTURES } from "../../../sidecar/src/engine/architectures";
import { ALL_TARGET_MODULES } from "../../../sidecar/src/engine/types";
import { repoRoot } from "../../oracle/torchReference";

/** The mapping table as the doc must show it: one row per architecture, each target's GGUF tensor → HF module. */
function mappingTable(): string {
    const header = ["Architecture", "Families", ...ALL_TARGET_MODULES.map((t) => `\`${t}\``), "Fused names", "PEFT q/k rows", "PEFT layers"];
    const rows = TRAINABLE_ARCHITECTURES.map((arch) => {
        const spec = ARCHITECTURES[arch];
        const cell = (tensor: string): string => `\`${tensor}\` → \`${spec.hfModules[tensor]!.split(".").pop()}\``;
        return [
            `\`${arch}\``, spec.examples, ...ALL_TARGET_MODULES.map((t) => cell(spec.targetTensors[t])),
            spec.fused ? "`attn_qkv`, `ffn_gate_up`" : "refused (RC206)",
            spec.permutedQK ? "un-permuted" : "as trained",
            `\`${spec.hfLayerPath ?? "model.layers"}\``
        ];
    });
    return [header, header.map(() => "---"), ...rows].map((r) => `| ${r.join(" | ")} |`).join("\n");
}

test("docs/architectures.md has the mapping table of engine/architectures.ts", () => {
    const doc = readFileSync(join(repoRoot(), "docs", "architectures.md"), "utf8");
    const table = mappingTable();
    assert.ok(doc.includes(table), `docs/architectures.md lacks the current table; paste:\n${table}`);
});
