// A dependency-free SVG line chart: a few series over step, min/max labels on both axes. It redraws whole
// on every call (a few thousand points at most), and writes what it drew onto the container as data
// attributes so tests can read the chart without parsing SVG.

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 480;
const HEIGHT = 200;
const PAD = { left: 48, right: 8, top: 8, bottom: 20 };

export interface Series {
    /** CSS class of the line, e.g. "train" or "val". */
    className: string;
    points: Array<[number, number]>;
}

function el<K extends keyof SVGElementTagNameMap>(name: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
    const node = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    return node;
}

export function formatNumber(value: number): string {
    if (value === 0) return "0";
    const abs = Math.abs(value);
    if (abs >= 1000) return value.toFixed(0);
    if (abs >= 1) return value.toFixed(2);
    return value.toExponential(1);
}

export function renderLineChart(container: HTMLElement, series: Series[]): void {
    const all = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    const svg = el("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}` });
    if (all.length === 0) {
        const text = el("text", { x: WIDTH / 2, y: HEIGHT / 2, "text-anchor": "middle", class: "axis-label" });
        text.textContent = "waiting for the first step…";
        svg.append(text);
        container.replaceChildren(svg);
        return;
    }
    const xs = all.map(([x]) => x);
    const ys = all.map(([, y]) => y);
    const [xMin, xMax] = [Math.min(...xs), Math.max(...xs)];
    let [yMin, yMax] = [Math.min(...ys), Math.max(...ys)];
    if (yMin === yMax) [yMin, yMax] = [yMin - 1e-9 - Math.abs(yMin) * 0.05, yMax + 1e-9 + Math.abs(yMax) * 0.05];
    const sx = (x: number): number => PAD.left + (xMax === xMin ? 0.5 : (x - xMin) / (xMax - xMin)) * (WIDTH - PAD.left - PAD.right);
    const sy = (y: number): number => PAD.top + (1 - (y - yMin) / (yMax - yMin)) * (HEIGHT - PAD.top - PAD.bottom);

    svg.append(
        el("line", { x1: PAD.left, y1: HEIGHT - PAD.bottom, x2: WIDTH - PAD.right, y2: HEIGHT - PAD.bottom, class: "axis" }),
        el("line", { x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: HEIGHT - PAD.bottom, class: "axis" })
    );
    const label = (x: number, y: number, anchor: string, text: string): SVGTextElement => {
        const t = el("text", { x, y, "text-anchor": anchor, class: "axis-label" });
        t.textContent = text;
        return t;
    };
    svg.append(
        label(PAD.left - 4, PAD.top + 8, "end", formatNumber(yMax)),
        label(PAD.left - 4, HEIGHT - PAD.bottom, "end", formatNumber(yMin)),
        label(PAD.left, HEIGHT - 4, "start", `step ${xMin}`),
        label(WIDTH - PAD.right, HEIGHT - 4, "end", `step ${xMax}`)
    );
    for (const s of series) {
        const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
        if (pts.length === 0) continue;
        if (pts.length === 1) {
            svg.append(el("circle", { cx: sx(pts[0]![0]), cy: sy(pts[0]![1]), r: 2.5, class: `line ${s.className}` }));
            continue;
        }
        svg.append(el("polyline", { points: pts.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(" "), class: `line ${s.className}` }));
    }
    container.replaceChildren(svg);
}
