// Exports never overwrite (issue 12.4): an output that is one of the export's inputs (the base model, the adapter, a
// file of the adapter's run, also through a hard or symbolic link) is refused whatever the flags; any other existing
// target needs `overwrite` (--force, or the editor's confirmation).
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkExportOutput, ExportTargetExistsError } from "../../../sidecar/src/export/outputGuard";
import { ExportInputError } from "../../../sidecar/src/export/adapter";

const dir = mkdtempSync(join(tmpdir(), "export-guard-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const model = join(dir, "base.gguf");
const run = join(dir, "run");
const adapter = join(run, "adapter.gguf");
mkdirSync(join(run, "checkpoints"), { recursive: true });
for (const [path, text] of [[model, "model"], [adapter, "adapter"], [join(run, "config.json"), "{}"], [join(run, "status.json"), "{}"], [join(run, "checkpoints", "step-10.bin"), "ck"]] as const) writeFileSync(path, text);
const base = { model, adapter } as const;

test("an output that is an input is refused, even with overwrite, also through links", () => {
    const hard = join(dir, "hard-link.gguf");
    linkSync(model, hard);
    const soft = join(dir, "soft-link.gguf");
    symlinkSync(adapter, soft);
    const cases: Array<[string, RegExp]> = [
        [model, /is the base model/],
        [adapter, /is the adapter/],
        [hard, /is the base model/],
        [soft, /is the adapter/],
        [join(run, "config.json"), /is a file of the run/],
        [join(run, "checkpoints", "step-10.bin"), /is a file of the run/]
    ];
    for (const [out, role] of cases) {
        for (const overwrite of [false, true]) {
            assert.throws(() => checkExportOutput({ ...base, format: "merged", out, overwrite }), (e: unknown) => e instanceof ExportInputError && /would overwrite its own input/.test(e.message) && role.test(e.message), `${out} overwrite=${overwrite}`);
        }
    }
});

test("another existing file needs overwrite; a new path does not", () => {
    const existing = join(dir, "old-merged.gguf");
    writeFileSync(existing, "old");
    assert.throws(() => checkExportOutput({ ...base, format: "merged", out: existing }), (e: unknown) => e instanceof ExportTargetExistsError && e.paths[0] === existing);
    assert.deepEqual(checkExportOutput({ ...base, format: "merged", out: existing, overwrite: true }), [existing]);
    assert.deepEqual(checkExportOutput({ ...base, format: "gguf-lora", out: join(dir, "new.gguf") }), [join(dir, "new.gguf")]);
    assert.deepEqual(checkExportOutput({ ...base, format: "merged", out: join(run, "export", "merged-f16.gguf") }), [join(run, "export", "merged-f16.gguf")], "the run's export/ folder is not an input");
});

test("a PEFT folder's files count, a file where the folder goes and a folder where a file goes are refused", () => {
    const peft = join(dir, "peft");
    mkdirSync(peft);
    writeFileSync(join(peft, "adapter_config.json"), "{}");
    assert.throws(() => checkExportOutput({ ...base, format: "peft", out: peft }), (e: unknown) => e instanceof ExportTargetExistsError && e.paths.length === 1);
    assert.throws(() => checkExportOutput({ ...base, format: "peft", out: model }), /PEFT export writes a folder/);
    assert.throws(() => checkExportOutput({ ...base, format: "merged", out: peft }), /is a folder/);
});
