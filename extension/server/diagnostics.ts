// DatasetDiagnostic (the pure core's shape) → LSP Diagnostic. Each diagnostic links its code's documentation
// and carries its fix hint in `data`, which the client hands back unchanged in codeAction requests.
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { DiagnosticSeverity, type Diagnostic } from "vscode-languageserver";
import { DIAGNOSTIC_CODES, type DatasetDiagnostic, type FixHint, type Severity } from "../../sidecar/src/datasets/index";
import { RUN_CONFIG_CODES } from "../../sidecar/src/datasets/runConfig";
import { DIAGNOSTICS_DOC_PATH } from "../../sidecar/src/protocol/languageServer";

export const DIAGNOSTIC_SOURCE = "lora-studio";

/** What a published diagnostic keeps in `data` for the code action handler. */
export interface DiagnosticData {
    fix?: FixHint;
}

let docsUrl: string | null = null;

/** Called once by the server entry with the extension root; a file: link opens the docs in the editor, offline. */
export function configureDocsLink(extensionRoot: string): void {
    docsUrl = pathToFileURL(join(extensionRoot, DIAGNOSTICS_DOC_PATH)).href;
}

const SEVERITY: Record<Severity, DiagnosticSeverity> = {
    error: DiagnosticSeverity.Error,
    warning: DiagnosticSeverity.Warning,
    info: DiagnosticSeverity.Information
};

export function toLspDiagnostic(d: DatasetDiagnostic): Diagnostic {
    const diagnostic: Diagnostic = {
        range: d.range,
        severity: SEVERITY[d.severity],
        code: d.code,
        source: DIAGNOSTIC_SOURCE,
        message: d.message
    };
    if (docsUrl) diagnostic.codeDescription = { href: `${docsUrl}#${docsAnchor(d.code)}` };
    if (d.fix) diagnostic.data = { fix: d.fix } satisfies DiagnosticData;
    return diagnostic;
}

/** The heading slug of a code in docs/diagnostics.md: "## LS001 invalid-json" → "ls001-invalid-json" (RC codes too). */
export function docsAnchor(code: string): string {
    const info = (DIAGNOSTIC_CODES as Record<string, { title: string } | undefined>)[code] ?? (RUN_CONFIG_CODES as Record<string, { title: string } | undefined>)[code];
    return info ? `${code.toLowerCase()}-${info.title}` : code.toLowerCase();
}
