// Small charts without libraries: distribution bars (divs) and histograms (inline SVG) with the max-length cut-off.
import type { Histogram } from "../../sidecar/src/protocol/previewWebview";

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 320;
const HEIGHT = 120;
const AXIS = 16;

export function renderDistribution(host: HTMLElement, values: Record<string, number>): void {
    const entries = Object.entries(values).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
    const total = entries.reduce((sum, [, n]) => sum + n, 0);
    host.replaceChildren(...entries.map(([name, n]) => {
        const row = document.createElement("div");
        row.className = "bar-row";
        row.dataset.key = name;
        const label = document.createElement("span");
        label.className = "bar-label";
        label.textContent = name;
        const track = document.createElement("span");
        track.className = "bar-track";
        const bar = document.createElement("span");
        bar.className = "bar";
        bar.style.width = `${total ? (100 * n) / total : 0}%`;
        track.append(bar);
        const value = document.createElement("span");
        value.className = "bar-value";
        value.dataset.testid = `dist-${name}`;
        value.textContent = n.toLocaleString();
        row.append(label, track, value);
        return row;
    }));
    if (entries.length === 0) host.textContent = "none";
}

export function renderHistogram(host: HTMLElement, histogram: Histogram, unit: string): void {
    const svg = el("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT + AXIS}`, role: "img", "aria-label": `Length histogram in ${unit}` });
    const peak = Math.max(1, ...histogram.counts);
    const span = histogram.counts.length * histogram.binWidth;
    const x = (value: number) => (WIDTH * value) / span;
    histogram.counts.forEach((count, i) => {
        if (count === 0) return;
        const h = Math.max(1, (HEIGHT * count) / peak);
        const rect = el("rect", { x: x(i * histogram.binWidth) + 0.5, y: HEIGHT - h, width: Math.max(1, x(histogram.binWidth) - 1), height: h, class: "hist-bar" });
        const title = el("title", {});
        title.textContent = `${i * histogram.binWidth}–${(i + 1) * histogram.binWidth - 1} ${unit}: ${count}`;
        rect.append(title);
        svg.append(rect);
    });
    svg.append(el("line", { x1: 0, y1: HEIGHT, x2: WIDTH, y2: HEIGHT, class: "axis" }));
    svg.append(text(0, HEIGHT + AXIS - 3, "0", "start"), text(WIDTH, HEIGHT + AXIS - 3, `${span} ${unit}`, "end"));
    if (histogram.cutoff !== null) {
        const cx = Math.min(WIDTH - 1, x(histogram.cutoff));
        svg.append(el("line", { x1: cx, y1: 0, x2: cx, y2: HEIGHT, class: "cutoff", "data-testid": "cutoff", "data-cutoff": histogram.cutoff }));
        const offScale = histogram.cutoff > span;
        const label = `${histogram.cutoffEstimated ? "≈ " : ""}max ${histogram.cutoff}${offScale ? " →" : ""}`;
        svg.append(text(cx > WIDTH / 2 ? cx - 3 : cx + 3, 10, label, cx > WIDTH / 2 ? "end" : "start", "cutoff-label"));
    }
    host.replaceChildren(svg);
    host.dataset.max = String(histogram.max);
}

function el(name: string, attributes: Record<string, string | number>): SVGElement {
    const node = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
    return node;
}

function text(x: number, y: number, content: string, anchor: "start" | "end", className = "axis-label"): SVGElement {
    const node = el("text", { x, y, "text-anchor": anchor, class: className });
    node.textContent = content;
    return node;
}
