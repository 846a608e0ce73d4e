// Starts the dataset language server (dist/server.js, node IPC) with vscode-languageclient. The server process,
// not the extension host, loads node-llama-cpp for token counts, so native code never runs in the editor's process.
import * as vscode from "vscode";
import { CloseAction, ErrorAction, LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from "vscode-languageclient/node";

/** Documents the server validates: JSONL files on disk and unsaved JSONL buffers, and run configs (`*.lora.json`). */
export const DATASET_SELECTOR = [
    { scheme: "file", language: "jsonl" },
    { scheme: "untitled", language: "jsonl" },
    { scheme: "file", pattern: "**/*.lora.json" }
];

/** After this many crashes within the client's window, stop restarting and tell the user. */
const MAX_RESTARTS = 4;

export function createDatasetClient(context: vscode.ExtensionContext, output: vscode.LogOutputChannel): LanguageClient {
    const module = context.asAbsolutePath("dist/server.js");
    const serverOptions: ServerOptions = {
        run: { module, transport: TransportKind.ipc },
        debug: { module, transport: TransportKind.ipc, options: { execArgv: ["--nolazy", "--inspect=6011"] } }
    };
    let restarts = 0;
    const clientOptions: LanguageClientOptions = {
        documentSelector: DATASET_SELECTOR,
        outputChannel: output,
        initializationFailedHandler: (error) => {
            output.error(`The dataset language server failed to start: ${error instanceof Error ? error.message : String(error)}`);
            output.show(true);
            return false;
        },
        errorHandler: {
            error: () => ({ action: ErrorAction.Continue }),
            closed: () => {
                if (++restarts <= MAX_RESTARTS) return { action: CloseAction.Restart };
                output.show(true);
                return { action: CloseAction.DoNotRestart, message: `The LoRA Studio dataset server stopped ${restarts} times and will not be restarted. See the LoRA Studio output for why, then reload the window.` };
            }
        }
    };
    return new LanguageClient("loraStudio.datasets", "LoRA Studio Datasets", serverOptions, clientOptions);
}
