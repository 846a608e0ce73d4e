// Downloads a catalogue model through the sidecar's models/pull (sidecar/src/models/pull.ts: resumable, checked as a
// readable GGUF before it is answered), with a cancellable notification showing percent and MB. Cancel aborts the
// request through its token; the partial file stays, and downloading the same model again resumes it.
import * as vscode from "vscode";
import { ResponseError } from "vscode-jsonrpc";
import { ModelsPullProgressNotification, ModelsPullRequest, type ModelsPullResult, type SidecarErrorData } from "../../../sidecar/src/protocol/sidecar";
import { formatBytes } from "../../../sidecar/src/models/modelFacts";
import { describeError } from "../errorMessage";
import type { SidecarSupervisor } from "../sidecar/supervisor";

export interface DownloadRequest {
    uri: string;
    label: string;
    /** loraStudio.modelsFolder; undefined: node-llama-cpp's models folder. */
    dir: string | undefined;
}

let nextPullId = 1;

/** "42% · 340 MB of 808 MB" (or just the MB while the size is unknown). */
export function progressText(downloadedBytes: number, totalBytes: number): string {
    if (totalBytes <= 0) return formatBytes(downloadedBytes);
    return `${Math.floor((100 * downloadedBytes) / totalBytes)}% · ${formatBytes(downloadedBytes)} of ${formatBytes(totalBytes)}`;
}

/** The downloaded model's path, or undefined when it was cancelled or failed (the user has been told which). */
export async function downloadModel(sidecar: SidecarSupervisor, request: DownloadRequest): Promise<string | undefined> {
    const pullId = `pull-${process.pid}-${nextPullId++}`;
    let result: ModelsPullResult;
    try {
        result = await vscode.window.withProgress(
            { location: vscode.ProgressLocation.Notification, title: `Downloading ${request.label}`, cancellable: true },
            async (progress, token) => {
                let reported = 0;
                const subscription = sidecar.onNotification(ModelsPullProgressNotification.type, (p) => {
                    if (p.pullId !== pullId) return;
                    const percent = p.totalBytes > 0 ? (100 * p.downloadedBytes) / p.totalBytes : 0;
                    progress.report({ message: progressText(p.downloadedBytes, p.totalBytes), increment: Math.max(0, percent - reported) });
                    reported = Math.max(reported, percent);
                });
                try {
                    return await sidecar.sendRequest(ModelsPullRequest.type, { uri: request.uri, pullId, ...(request.dir ? { dir: request.dir } : {}) }, { token });
                } finally {
                    subscription.dispose();
                }
            }
        );
    } catch (error) {
        const data = error instanceof ResponseError ? (error.data as SidecarErrorData | undefined) : undefined;
        if (data?.pullProblem === "cancelled") {
            const kept = data.partialFile ? ` The partial file ${data.partialFile} is kept: downloading ${request.label} again resumes it.` : "";
            void vscode.window.showInformationMessage(`Download of ${request.label} cancelled.${kept}`);
        } else {
            void vscode.window.showErrorMessage(`Could not download ${request.label}: ${describeError(error)}`);
        }
        return undefined;
    }
    if (result.resumedFrom > 0) void vscode.window.showInformationMessage(`${request.label}: resumed the earlier download from ${formatBytes(result.resumedFrom)}.`);
    return result.path;
}
