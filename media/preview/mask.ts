// The label-mask panel: the selected line's tokens as the base model renders them, trained tokens (assistant replies
// and their end token) coloured apart from masked ones (the prompt, the template's markup) and from tokens that
// truncation cuts off, with the count of trainable tokens. Text only through textContent: line content is untrusted.
import type { LineMaskPreview } from "../../sidecar/src/protocol/previewWebview";

export function showMaskLoading(panel: HTMLElement, count: HTMLElement, line: number): void {
    panel.dataset.status = "loading";
    panel.replaceChildren();
    panel.textContent = `Rendering line ${line + 1}…`;
    count.textContent = "";
}

export function renderMask(panel: HTMLElement, count: HTMLElement, preview: LineMaskPreview): void {
    panel.dataset.status = preview.status;
    panel.dataset.line = String(preview.line);
    panel.replaceChildren();
    count.dataset.trainable = String(preview.trainableTokens);
    if (preview.status !== "ok") {
        count.textContent = "";
        const note = document.createElement("p");
        note.className = `mask-note mask-${preview.status}`;
        note.textContent = preview.message;
        panel.append(note);
        return;
    }
    count.textContent = `Line ${preview.line + 1}: ${preview.trainableTokens.toLocaleString()} trainable of ${preview.totalTokens.toLocaleString()} tokens` +
        ` (sequence length ${preview.maxSequenceLength}, truncation ${preview.truncation})`;
    if (preview.message) {
        const note = document.createElement("p");
        note.className = preview.trainableTokens === 0 ? "mask-note mask-line-error" : "mask-note";
        note.textContent = preview.message;
        panel.append(note);
    }
    preview.sequences.forEach((sequence, index) => {
        const block = document.createElement("div");
        block.className = "mask-sequence";
        if (preview.sequences.length > 1) block.dataset.sequence = String(index + 1);
        for (const token of sequence) {
            const span = document.createElement("span");
            span.className = `tok ${token.cut ? "cut" : token.trained ? "trained" : "masked"}`;
            span.dataset.testid = "mask-token";
            // Newlines and tabs stay visible as symbols, so token boundaries show.
            span.textContent = token.text.replace(/\n/g, "↵\n").replace(/\t/g, "⇥");
            span.title = token.cut ? "cut off by truncation" : token.trained ? "trained" : "masked (not trained)";
            block.append(span);
        }
        panel.append(block);
    });
    if (preview.omittedTokens > 0) {
        const more = document.createElement("p");
        more.className = "mask-note";
        more.textContent = `… ${preview.omittedTokens.toLocaleString()} more tokens not shown`;
        panel.append(more);
    }
}
