// Terminal progress for `lora-studio train`: a redrawn bar on a TTY, plain lines (about every 5%) otherwise,
// so logs and CI output stay readable.
import type { RunProgressParams } from "../protocol/sidecar";

const BAR_WIDTH = 30;

function formatSeconds(seconds: number): string {
    if (!Number.isFinite(seconds)) return "?";
    const s = Math.round(seconds);
    const m = Math.floor(s / 60);
    return m > 0 ? `${m}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

export function progressLine(p: RunProgressParams): string {
    const val = p.valLoss === undefined ? "" : ` val ${p.valLoss.toFixed(4)}`;
    return `step ${p.step}/${p.totalSteps} epoch ${p.epoch.toFixed(2)} loss ${p.trainLoss.toFixed(4)}${val} lr ${p.lr.toExponential(2)} ${Math.round(p.tokensPerSecond)} tok/s ETA ${formatSeconds(p.etaSeconds)}`;
}

export class ProgressPrinter {
    private readonly tty: boolean;
    private barShown = false;
    private lastPrintedStep = 0;

    constructor(private readonly out: NodeJS.WriteStream) {
        this.tty = out.isTTY === true;
    }

    progress(p: RunProgressParams): void {
        if (this.tty) {
            const filled = Math.round((BAR_WIDTH * p.step) / Math.max(1, p.totalSteps));
            this.out.write(`\r[${"#".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}] ${progressLine(p)}\x1b[K`);
            this.barShown = true;
            return;
        }
        const every = Math.max(1, Math.floor(p.totalSteps / 20));
        if (p.step - this.lastPrintedStep >= every || p.step === p.totalSteps || p.valLoss !== undefined) {
            this.out.write(`${progressLine(p)}\n`);
            this.lastPrintedStep = p.step;
        }
    }

    note(message: string): void {
        this.done();
        this.out.write(`${message}\n`);
    }

    /** Ends the redrawn bar's line. */
    done(): void {
        if (this.barShown) this.out.write("\n");
        this.barShown = false;
    }
}
