// The training progress view as the E2E tests read it: the loss chart's drawn data from its data attributes
// and the run's state from the root element (PROGRESS_IDS), each waited for as the view changes.
import type { FrameLocator, Page } from "playwright-core";
import { PROGRESS_IDS } from "../../../sidecar/src/protocol/progressWebview";
import { webviewContaining } from "./workbench";

/** Upper bound for training to reach a step: the tiny model does several steps a second even on 2 busy cores. */
export const TRAINING_TIMEOUT_MS = Number(process.env.LORA_STUDIO_E2E_TRAINING_TIMEOUT_MS ?? 180_000);

/** What the loss chart drew. */
export interface ChartData {
    points: number;
    firstLoss: number;
    lastLoss: number;
    lastStep: number;
}

/** The body of the progress view's webview. */
export async function progressView(page: Page): Promise<FrameLocator> {
    return webviewContaining(page, `#${PROGRESS_IDS.lossChart}`);
}

/** Waits until the loss chart has drawn up to `minStep`, watching its attributes change; returns what it drew. */
export async function waitForChart(view: FrameLocator, minStep: number): Promise<ChartData> {
    const data = await view.locator(`#${PROGRESS_IDS.lossChart}`).evaluate((el, [want, timeoutMs]) => new Promise<Record<string, string>>((resolve, reject) => {
        const node = el as HTMLElement;
        const done = (): boolean => Number(node.dataset.lastStep) >= want;
        if (done()) return resolve({ ...node.dataset } as Record<string, string>);
        const timer = setTimeout(() => {
            observer.disconnect();
            reject(new Error(`the loss chart stopped at step ${node.dataset.lastStep ?? "none"}; wanted ${want}`));
        }, timeoutMs);
        const observer = new MutationObserver(() => {
            if (!done()) return;
            observer.disconnect();
            clearTimeout(timer);
            resolve({ ...node.dataset } as Record<string, string>);
        });
        observer.observe(node, { attributes: true });
    }), [minStep, TRAINING_TIMEOUT_MS] as const);
    return { points: Number(data.points), firstLoss: Number(data.firstLoss), lastLoss: Number(data.lastLoss), lastStep: Number(data.lastStep) };
}

/** Waits until the view shows the run in `state` ("running", "cancelled", "interrupted", …). */
export async function waitForState(view: FrameLocator, state: string): Promise<void> {
    await view.locator(`#${PROGRESS_IDS.root}[data-state="${state}"]`).waitFor({ timeout: TRAINING_TIMEOUT_MS });
}
