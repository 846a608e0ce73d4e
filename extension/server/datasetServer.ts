// The language server's wiring: documents in, debounced validation, diagnostics out (cleared on close), code
// actions and the preview's custom requests. All dataset logic lives in the pure core (sidecar/src/datasets);
// this file only connects it to LSP, like yaml-language-server's validationHandlers.
import { stat } from "node:fs/promises";
import { DatasetReadError, readDatasetFile } from "../../sidecar/src/datasets/readDatasetFile";
import {
    CodeActionKind,
    DidChangeConfigurationNotification,
    ResponseError,
    TextDocumentSyncKind,
    type Connection,
    type Diagnostic,
    type InitializeResult
} from "vscode-languageserver";
import { decodeDatasetBytes } from "../../sidecar/src/datasets/index";
import { DatasetLinePreviewRequest, DatasetRowsRequest, DatasetSummaryRequest, DEFAULT_DATASET_SETTINGS, SETTINGS_SECTION, type DatasetSettings } from "../../sidecar/src/protocol/languageServer";
import { codeActions, isConvertFileData, resolveConvertFile } from "./codeActions";
import { DatasetDocument } from "./datasetDocument";
import { toLspDiagnostic } from "./diagnostics";
import { lineMaskPreview } from "./labelMask";
import { buildRows, buildSummary } from "./previewData";
import { resolveModelPath, sanitizeSettings, uriToPath, validateOptionsFor, workspaceRelativePath } from "./settings";
import { isRunConfigUri, RunConfigDocuments } from "./runConfigDocuments";
import { tooLongDiagnostics, TrainableCheck } from "../../sidecar/src/datasets/tokenChecks";
import { TokenCounter } from "./tokenizer";

/** Quiet time after the last keystroke before validating; short enough to feel live. */
export const VALIDATE_DEBOUNCE_MS = 150;
/** Files read from disk for previews (not open in the editor) that stay validated in memory. */
const MAX_CACHED_DISK_FILES = 4;
/** Up to this many uncounted lines are tokenized before diagnostics are published (typing); more are counted after. */
const TOKEN_COUNT_BEFORE_PUBLISH_LINES = 500;

interface TokenizerState {
    modelPath: string | null;
    counter: TokenCounter | null;
    loading: Promise<TokenCounter | null> | null;
    error: string | null;
}

export function startDatasetServer(connection: Connection): void {
    const open = new Map<string, DatasetDocument>();
    /** Files the preview asked about that are not open in the editor, keyed by uri, with the mtime they were read at. */
    const onDisk = new Map<string, { doc: DatasetDocument; mtimeMs: number }>();
    const timers = new Map<string, NodeJS.Timeout>();
    let settings: DatasetSettings = DEFAULT_DATASET_SETTINGS;
    let workspaceFolders: string[] = [];
    let canPullConfiguration = false;
    let canRegisterConfigurationChanges = false;
    const tokenizer: TokenizerState = { modelPath: null, counter: null, loading: null, error: null };
    const trainableCheck = new TrainableCheck();
    const runConfigs = new RunConfigDocuments(connection, VALIDATE_DEBOUNCE_MS);

    // Documents opened before the client answered the first configuration pull wait for it, so a file with a
    // per-glob format or column mapping is never first published with the defaults' diagnostics.
    let settingsLoaded!: () => void;
    const initialSettings = new Promise<void>((resolve) => (settingsLoaded = resolve));

    const optionsFor = (uri: string) => validateOptionsFor(workspaceRelativePath(uri, workspaceFolders), settings);

    connection.onInitialize((params): InitializeResult => {
        workspaceFolders = (params.workspaceFolders ?? []).map((f) => uriToPath(f.uri));
        if (workspaceFolders.length === 0 && params.rootUri) workspaceFolders = [uriToPath(params.rootUri)];
        canPullConfiguration = params.capabilities.workspace?.configuration === true;
        canRegisterConfigurationChanges = params.capabilities.workspace?.didChangeConfiguration?.dynamicRegistration === true;
        const initial = (params.initializationOptions as { settings?: unknown } | undefined)?.settings;
        if (initial !== undefined) settings = sanitizeSettings(initial);
        return {
            capabilities: {
                textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
                codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix, CodeActionKind.RefactorRewrite], resolveProvider: true }
            },
            serverInfo: { name: "lora-studio-datasets" }
        };
    });

    connection.onInitialized(async () => {
        // Without this registration a pull-model client sends no didChangeConfiguration at all.
        if (canRegisterConfigurationChanges) void connection.client.register(DidChangeConfigurationNotification.type, { section: SETTINGS_SECTION });
        await reloadSettings();
        settingsLoaded();
    });

    connection.onDidChangeConfiguration(async (change) => {
        const pushed = (change.settings as Record<string, unknown> | undefined)?.[SETTINGS_SECTION];
        await reloadSettings(pushed);
    });

    async function reloadSettings(pushed?: unknown): Promise<void> {
        if (canPullConfiguration) {
            try {
                pushed = await connection.workspace.getConfiguration(SETTINGS_SECTION);
            } catch (error) {
                connection.console.warn(`Could not read the ${SETTINGS_SECTION} settings: ${String(error)}`);
            }
        }
        if (pushed !== undefined) settings = sanitizeSettings(pushed);
        updateTokenizer();
        for (const doc of open.values()) {
            // Unchanged options keep the validator's state: a 200k-line file is not validated twice at startup.
            const options = optionsFor(doc.uri);
            if (JSON.stringify(options) !== JSON.stringify(doc.validateOptions)) doc.setOptions(options);
            void validateAndPublish(doc); // cheap when nothing changed; republishes LS301 for a new maxSequenceLength
        }
        onDisk.clear();
    }

    /** Loads (or drops) the tokenizer when loraStudio.baseModel changes; failures become a message, not a crash. */
    function updateTokenizer(): void {
        const modelPath = resolveModelPath(settings, workspaceFolders);
        if (modelPath === tokenizer.modelPath) return;
        const previous = tokenizer.counter;
        Object.assign(tokenizer, { modelPath, counter: null, error: null, loading: null });
        void previous?.dispose();
        if (!modelPath) return;
        const loading = TokenCounter.load(modelPath).then(
            (counter) => {
                if (tokenizer.loading !== loading) {
                    void counter.dispose();
                    return null;
                }
                tokenizer.counter = counter;
                connection.console.info(`Token lengths use the tokenizer of ${modelPath}.`);
                for (const doc of open.values()) void validateAndPublish(doc);
                return counter;
            },
            (error: unknown) => {
                if (tokenizer.loading === loading) tokenizer.error = error instanceof Error ? error.message : String(error);
                connection.console.error(tokenizer.error ?? String(error));
                void connection.window.showWarningMessage(tokenizer.error ?? String(error));
                return null;
            }
        );
        tokenizer.loading = loading;
    }

    function tokenStatus(): string {
        if (tokenizer.counter) return "";
        if (!tokenizer.modelPath) return "Set loraStudio.baseModel to a GGUF model to see token lengths.";
        if (tokenizer.error) return tokenizer.error;
        return "Loading the tokenizer…";
    }

    connection.onDidOpenTextDocument(({ textDocument }) => {
        if (isRunConfigUri(textDocument.uri)) return runConfigs.open(textDocument.uri, textDocument.text, textDocument.version);
        const doc = new DatasetDocument(textDocument.uri, textDocument.text, textDocument.version, optionsFor(textDocument.uri));
        open.set(textDocument.uri, doc);
        void validateAndPublish(doc);
    });

    connection.onDidChangeTextDocument(({ textDocument, contentChanges }) => {
        if (isRunConfigUri(textDocument.uri)) return runConfigs.change(textDocument.uri, contentChanges, textDocument.version);
        const doc = open.get(textDocument.uri);
        if (!doc) return;
        doc.applyChanges(contentChanges, textDocument.version);
        clearTimeout(timers.get(doc.uri));
        timers.set(doc.uri, setTimeout(() => {
            timers.delete(doc.uri);
            void validateAndPublish(doc);
        }, VALIDATE_DEBOUNCE_MS));
    });

    connection.onDidCloseTextDocument(({ textDocument }) => {
        if (isRunConfigUri(textDocument.uri)) return runConfigs.close(textDocument.uri);
        clearTimeout(timers.get(textDocument.uri));
        timers.delete(textDocument.uri);
        open.delete(textDocument.uri);
        void connection.sendDiagnostics({ uri: textDocument.uri, diagnostics: [] });
    });

    /** Validates what changed, publishes, then counts tokens of new lines and publishes again if that adds warnings. */
    async function validateAndPublish(doc: DatasetDocument): Promise<void> {
        try {
            await initialSettings;
            const result = await doc.validate();
            if (open.get(doc.uri) !== doc) return;
            const counter = tokenizer.counter;
            const uncounted = counter ? doc.uncountedLines(counter) : 0;
            // Many lines to count (a new file or tokenizer): publish the validator's diagnostics first, so they do
            // not wait for the tokenizer. A few (typing) are counted first, so one edit gives one publish.
            if (uncounted > TOKEN_COUNT_BEFORE_PUBLISH_LINES) publish(doc, result.diagnostics.map(toLspDiagnostic).concat(tokenWarnings(doc, counter)));
            const stillCurrent = () => open.get(doc.uri) === doc && tokenizer.counter === counter;
            if (counter && uncounted > 0 && !(await doc.countTokens(counter, () => !stillCurrent()))) return;
            if (open.get(doc.uri) !== doc) return;
            publish(doc, result.diagnostics.map(toLspDiagnostic).concat(tokenWarnings(doc, counter)));
        } catch (error) {
            connection.console.error(`Validating ${doc.uri} failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
        }
    }

    /** LS301 from the counts made so far with `counter`, and LS302 for long lines left with nothing to train on (none without a tokenizer). */
    function tokenWarnings(doc: DatasetDocument, counter: TokenCounter | null): Diagnostic[] {
        const counts = doc.tokenCounts(counter);
        if (!counts || !counter) return [];
        const options = { format: doc.validateOptions.format, mapping: doc.validateOptions.columnMapping };
        // The core's checks (sidecar/src/datasets/tokenChecks.ts), as `lora-studio validate --model` runs them.
        const untrainable = trainableCheck.diagnostics(counts, (line) => doc.buffer.line(line), counter, options, settings, counter.modelPath);
        return untrainable.concat(tooLongDiagnostics(counts, (line) => doc.buffer.line(line).length, settings.maxSequenceLength, settings.maxDiagnosticsPerFile)).map(toLspDiagnostic);
    }

    function publish(doc: DatasetDocument, diagnostics: Diagnostic[]): void {
        if (open.get(doc.uri) !== doc) return;
        void connection.sendDiagnostics({ uri: doc.uri, ...(doc.version !== null ? { version: doc.version } : {}), diagnostics });
    }

    /** The open document, or the file read from disk (cached until its mtime changes). */
    async function documentFor(uri: string): Promise<DatasetDocument> {
        await initialSettings;
        const doc = open.get(uri);
        if (doc) return doc;
        if (!uri.startsWith("file:")) throw new ResponseError(1, `${uri} is not open and is not a file on disk.`);
        const path = uriToPath(uri);
        let mtimeMs: number;
        try {
            mtimeMs = (await stat(path)).mtimeMs;
        } catch {
            throw new ResponseError(1, `Cannot read ${path}: the file does not exist.`);
        }
        const cached = onDisk.get(uri);
        if (cached && cached.mtimeMs === mtimeMs) return cached.doc;
        let bytes: Uint8Array;
        try {
            // Bounded like every dataset read (sidecar/src/datasets/readDatasetFile.ts): a device or a huge file stops early.
            bytes = readDatasetFile(path);
        } catch (error) {
            if (error instanceof DatasetReadError) throw new ResponseError(1, `Cannot preview: ${error.message}`);
            throw error;
        }
        const decoded = decodeDatasetBytes(bytes);
        const fresh = new DatasetDocument(uri, decoded.text, null, { ...optionsFor(uri), decodedFromInvalidUtf8: decoded.invalidUtf8 });
        // Keep only the most recent few: each holds a whole file and its validation state.
        onDisk.delete(uri);
        if (onDisk.size >= MAX_CACHED_DISK_FILES) onDisk.delete(onDisk.keys().next().value!);
        onDisk.set(uri, { doc: fresh, mtimeMs });
        return fresh;
    }

    /**
     * On a first start the client can answer the initial configuration pull before it has read the user's settings
     * file, and sends no change afterwards (seen in code-server on a fresh profile): the preview would then say "set
     * loraStudio.baseModel" although it is set. While no model is known, a preview request reads the settings again:
     * the summary in the background (a round trip inside it would hold its answer behind a big file's validation),
     * the label mask before answering (it is useless without the model).
     */
    async function settingsIfNoModel(): Promise<void> {
        if (tokenizer.modelPath || !canPullConfiguration) return;
        let pulled: unknown;
        try {
            pulled = await connection.workspace.getConfiguration(SETTINGS_SECTION);
        } catch {
            return; // reloadSettings reports a failing pull; the answer then says what it knows
        }
        // Only a model that appeared is worth a reload (which re-checks every open document).
        if (sanitizeSettings(pulled).baseModel) await reloadSettings(pulled);
    }

    connection.onRequest(DatasetSummaryRequest.type, async ({ uri }) => {
        const doc = await documentFor(uri);
        const result = await doc.validate();
        void settingsIfNoModel();
        // A tokenizer still loading (seconds, once) is worth waiting for: the preview would show no token lengths.
        if (tokenizer.loading && !tokenizer.counter && !tokenizer.error) await tokenizer.loading;
        const counter = tokenizer.counter;
        if (counter && doc.uncountedLines(counter) > 0) await doc.countTokens(counter, () => tokenizer.counter !== counter);
        return buildSummary(doc, result, { counts: doc.tokenCounts(counter), status: tokenStatus() }, settings.maxSequenceLength);
    });

    connection.onRequest(DatasetRowsRequest.type, async ({ uri, offset, limit }) => {
        const doc = await documentFor(uri);
        const result = await doc.validate();
        return buildRows(doc, result, doc.tokenCounts(tokenizer.counter), offset, limit);
    });

    connection.onRequest(DatasetLinePreviewRequest.type, async ({ uri, line }) => {
        const doc = await documentFor(uri);
        await doc.validate();
        await settingsIfNoModel();
        // Selecting a row right after the panel opens must not say "loading" for a tokenizer seconds from ready.
        if (tokenizer.loading && !tokenizer.counter && !tokenizer.error) await tokenizer.loading;
        const text = Number.isInteger(line) && line >= 0 && line < doc.buffer.lineCount ? doc.buffer.line(line) : undefined;
        const options = { format: doc.validateOptions.format, mapping: doc.validateOptions.columnMapping };
        return lineMaskPreview(uri, line, text, tokenizer, options, settings);
    });

    connection.onCodeAction(async (params) => {
        const doc = open.get(params.textDocument.uri);
        if (!doc) return [];
        await doc.validate();
        return codeActions(doc, params);
    });

    connection.onCodeActionResolve(async (action) => {
        if (!isConvertFileData(action.data)) return action;
        const doc = open.get(action.data.uri);
        if (!doc) return action;
        await doc.validate();
        return resolveConvertFile(doc, action);
    });

    connection.onShutdown(async () => {
        for (const timer of timers.values()) clearTimeout(timer);
        runConfigs.dispose();
        await tokenizer.counter?.dispose();
    });

    connection.listen();
}
