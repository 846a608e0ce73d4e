// A virtualized table: only the rows in view (plus a small overscan) exist in the DOM, positioned inside a spacer
// as tall as all rows together, so 200k lines scroll as smoothly as 20. Rows arrive in pages that the table asks
// for when they first scroll into view; a page is requested once until the data is replaced.
import type { DatasetRow } from "../../sidecar/src/protocol/previewWebview";

export const ROW_HEIGHT_PX = 22;
export const PAGE_SIZE = 500;
const OVERSCAN_ROWS = 10;

export interface TableCallbacks {
    requestPage(offset: number, limit: number): void;
    revealLine(line: number): void;
    /** The user selected a row (a click): the label-mask panel shows it. */
    selectLine(line: number): void;
    scrolled(scrollTop: number): void;
}

const COLUMNS = ["Line", "Status", "Format", "Roles", "Chars", "Tokens", "Text"] as const;

export class VirtualTable {
    private readonly viewport: HTMLDivElement;
    private readonly spacer: HTMLDivElement;
    private readonly pages = new Map<number, DatasetRow[]>();
    private readonly requested = new Set<number>();
    private readonly rendered = new Map<number, HTMLDivElement>();
    private total = 0;
    private frame = 0;
    private selected: number | undefined;

    constructor(private readonly host: HTMLElement, private readonly callbacks: TableCallbacks) {
        const header = document.createElement("div");
        header.className = "row header";
        header.setAttribute("role", "row");
        for (const name of COLUMNS) header.append(cell(name, "columnheader"));
        this.viewport = document.createElement("div");
        this.viewport.className = "viewport";
        this.viewport.dataset.testid = "table-viewport";
        this.spacer = document.createElement("div");
        this.spacer.className = "spacer";
        this.viewport.append(this.spacer);
        host.replaceChildren(header, this.viewport);
        this.viewport.addEventListener("scroll", () => this.schedule(), { passive: true });
        this.viewport.addEventListener("click", (event) => {
            const row = (event.target as HTMLElement).closest<HTMLElement>(".row[data-line]");
            if (!row) return;
            const line = Number(row.dataset.line);
            this.select(line);
            this.callbacks.selectLine(line);
            this.callbacks.revealLine(line);
        });
        new ResizeObserver(() => this.schedule()).observe(this.viewport);
    }

    /** New data: forget every fetched page and lay out `total` rows. */
    reset(total: number, scrollTop?: number): void {
        this.total = total;
        this.pages.clear();
        this.requested.clear();
        for (const el of this.rendered.values()) el.remove();
        this.rendered.clear();
        this.spacer.style.height = `${total * ROW_HEIGHT_PX}px`;
        this.host.dataset.total = String(total);
        if (scrollTop !== undefined) this.viewport.scrollTop = scrollTop;
        this.schedule();
    }

    /** Marks `line` as the selected row (also after a reload, from saved state). */
    select(line: number | undefined): void {
        this.selected = line;
        for (const el of this.rendered.values()) {
            el.classList.toggle("selected", el.dataset.line !== undefined && Number(el.dataset.line) === line);
            if (el.dataset.line !== undefined) el.setAttribute("aria-selected", String(Number(el.dataset.line) === line));
        }
    }

    addPage(offset: number, rows: DatasetRow[]): void {
        const page = Math.floor(offset / PAGE_SIZE);
        this.pages.set(page, rows);
        // Re-render rows of this page that were shown as placeholders.
        for (const [index, el] of this.rendered) {
            if (Math.floor(index / PAGE_SIZE) === page) {
                el.remove();
                this.rendered.delete(index);
            }
        }
        this.schedule();
    }

    private schedule(): void {
        if (this.frame) return;
        this.frame = requestAnimationFrame(() => {
            this.frame = 0;
            this.render();
        });
    }

    private render(): void {
        const top = this.viewport.scrollTop;
        const height = this.viewport.clientHeight || 400;
        const first = Math.max(0, Math.floor(top / ROW_HEIGHT_PX) - OVERSCAN_ROWS);
        const last = Math.min(this.total, Math.ceil((top + height) / ROW_HEIGHT_PX) + OVERSCAN_ROWS);
        for (const [index, el] of this.rendered) {
            if (index < first || index >= last) {
                el.remove();
                this.rendered.delete(index);
            }
        }
        for (let index = first; index < last; index++) {
            if (this.rendered.has(index)) continue;
            const page = Math.floor(index / PAGE_SIZE);
            const data = this.pages.get(page)?.[index - page * PAGE_SIZE];
            if (!data && !this.requested.has(page)) {
                this.requested.add(page);
                this.callbacks.requestPage(page * PAGE_SIZE, PAGE_SIZE);
            }
            const el = data ? rowElement(data, data.line === this.selected) : placeholder(index);
            el.style.transform = `translateY(${index * ROW_HEIGHT_PX}px)`;
            this.spacer.append(el);
            this.rendered.set(index, el);
        }
        // Fetch the next page before it scrolls into view, so steady scrolling rarely shows placeholders.
        if (this.total > 0) {
            const ahead = Math.floor(Math.min(this.total - 1, last + PAGE_SIZE / 2) / PAGE_SIZE);
            if (!this.pages.has(ahead) && !this.requested.has(ahead)) {
                this.requested.add(ahead);
                this.callbacks.requestPage(ahead * PAGE_SIZE, PAGE_SIZE);
            }
        }
        this.callbacks.scrolled(top);
    }
}

function cell(text: string, role = "gridcell", className = ""): HTMLDivElement {
    const el = document.createElement("div");
    el.setAttribute("role", role);
    el.className = `cell ${className}`.trim();
    el.textContent = text;
    return el;
}

function rowElement(row: DatasetRow, selected: boolean): HTMLDivElement {
    const el = document.createElement("div");
    el.className = `row severity-${row.severity}${row.duplicateOf !== null ? " duplicate" : ""}${selected ? " selected" : ""}`;
    el.setAttribute("role", "row");
    el.setAttribute("aria-selected", String(selected));
    el.dataset.line = String(row.line);
    el.dataset.testid = "row";
    el.title = `Line ${row.line + 1}: click to show it in the editor and its trained tokens below`;
    const roles = Object.entries(row.roles).map(([role, n]) => (n > 1 ? `${role}×${n}` : role)).join(" ");
    el.append(
        cell(String(row.line + 1), "gridcell", "num"),
        cell(row.severity === "ok" ? "valid" : row.severity, "gridcell", "status"),
        cell(row.format),
        cell(roles),
        cell(String(row.chars), "gridcell", "num"),
        cell(row.tokens === null ? "–" : String(row.tokens), "gridcell", "num"),
        cell(row.text, "gridcell", "text")
    );
    return el;
}

function placeholder(index: number): HTMLDivElement {
    const el = document.createElement("div");
    el.className = "row loading";
    el.setAttribute("role", "row");
    el.append(cell(String(index + 1), "gridcell", "num"), cell("…"));
    return el;
}
