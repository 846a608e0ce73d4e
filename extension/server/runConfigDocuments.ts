// Run config files (`*.lora.json`) in the language server: keeps their text in step with the editor, re-checks
// them with the pure checker (sidecar/src/datasets/runConfig.ts) after a quiet moment, and publishes the result.
// The checks and the file system probe live in the core, shared with the sidecar's run/start.
import { dirname, resolve } from "node:path";
import type { Connection, TextDocumentContentChangeEvent } from "vscode-languageserver";
import { TextDocument } from "vscode-languageserver-textdocument";
import { checkRunConfig, type RunConfigProbe } from "../../sidecar/src/datasets/runConfig";
import { nodeFileProbe } from "../../sidecar/src/training/runConfigProbe";
import { toLspDiagnostic } from "./diagnostics";
import { uriToPath } from "./settings";

/** Run configs are recognised by name, as package.json's jsonValidation entry does. */
export function isRunConfigUri(uri: string): boolean {
    return /\.lora\.json$/i.test(uri);
}

/** The core's node:fs probe (sidecar/src/training/runConfigProbe.ts), shared with the sidecar's run/start. */
export { nodeFileProbe };

export class RunConfigDocuments {
    private readonly docs = new Map<string, TextDocument>();
    private readonly timers = new Map<string, NodeJS.Timeout>();

    constructor(private readonly connection: Connection, private readonly debounceMs: number, private readonly probe: RunConfigProbe = nodeFileProbe) {}

    open(uri: string, text: string, version: number): void {
        this.docs.set(uri, TextDocument.create(uri, "json", version, text));
        this.publish(uri);
    }

    change(uri: string, changes: TextDocumentContentChangeEvent[], version: number): void {
        const doc = this.docs.get(uri);
        if (!doc) return;
        this.docs.set(uri, TextDocument.update(doc, changes, version));
        clearTimeout(this.timers.get(uri));
        this.timers.set(uri, setTimeout(() => {
            this.timers.delete(uri);
            this.publish(uri);
        }, this.debounceMs));
    }

    close(uri: string): void {
        clearTimeout(this.timers.get(uri));
        this.timers.delete(uri);
        this.docs.delete(uri);
        void this.connection.sendDiagnostics({ uri, diagnostics: [] });
    }

    /** Re-checks every open config (a file they name may have appeared or gone). */
    recheckAll(): void {
        for (const uri of this.docs.keys()) this.publish(uri);
    }

    dispose(): void {
        for (const timer of this.timers.values()) clearTimeout(timer);
    }

    private publish(uri: string): void {
        const doc = this.docs.get(uri);
        if (!doc) return;
        try {
            const diagnostics = checkRunConfig(doc.getText(), dirname(uriToPath(uri)), this.probe, resolve).map(toLspDiagnostic);
            void this.connection.sendDiagnostics({ uri, version: doc.version, diagnostics });
        } catch (error) {
            this.connection.console.error(`Checking ${uri} failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
        }
    }
}
