// What every webview script gets from VS Code: postMessage to the extension and a state slot that survives a
// reload (getState/setState). acquireVsCodeApi may be called once per page, so each view calls this once.

export interface VsCodeApi<State> {
    postMessage(message: unknown): void;
    getState(): State | undefined;
    setState(state: State): void;
}

declare function acquireVsCodeApi(): VsCodeApi<unknown>;

export function vscodeApi<State>(): VsCodeApi<State> {
    return acquireVsCodeApi() as VsCodeApi<State>;
}

/** An element the view's HTML shell declares (see extension/src/<feature>/<view>Html.ts). */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
    return document.getElementById(id) as T;
}
