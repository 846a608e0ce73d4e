// A tiny Markdown subset for model answers, parsed into a plain tree: paragraphs, fenced code blocks,
// inline code, bold, italic and lists. Everything else (HTML, links, images) stays literal text. The tree
// is turned into DOM nodes by buildMarkdown with createElement/createTextNode only, never innerHTML, so
// model output cannot inject elements or attributes. Pure and DOM-free, so it is unit-tested in node.

export type Inline =
    | { kind: "text"; text: string }
    | { kind: "code"; text: string }
    | { kind: "break" }
    | { kind: "strong"; children: Inline[] }
    | { kind: "em"; children: Inline[] };

export type Block =
    | { kind: "paragraph"; children: Inline[] }
    | { kind: "codeBlock"; text: string }
    | { kind: "list"; ordered: boolean; items: Inline[][] };

const FENCE = /^\s*(```|~~~)/;
const LIST_ITEM = /^\s*(?:([-*+])|(\d{1,9})[.)])\s+(.*)$/;

export function parseMarkdown(source: string): Block[] {
    const lines = source.replace(/\r\n?/g, "\n").split("\n");
    const blocks: Block[] = [];
    let paragraph: string[] = [];
    const flushParagraph = () => {
        if (paragraph.length > 0) blocks.push({ kind: "paragraph", children: parseInline(paragraph.join("\n")) });
        paragraph = [];
    };
    for (let i = 0; i < lines.length; i++) {
        const line = lines[i]!;
        const fence = FENCE.exec(line);
        if (fence) {
            flushParagraph();
            const code: string[] = [];
            // An answer still streaming may not have closed its fence yet: the block runs to the end.
            for (i++; i < lines.length && !lines[i]!.trimStart().startsWith(fence[1]!); i++) code.push(lines[i]!);
            blocks.push({ kind: "codeBlock", text: code.join("\n") });
            continue;
        }
        const item = LIST_ITEM.exec(line);
        if (item) {
            flushParagraph();
            const ordered = item[2] !== undefined;
            const items: Inline[][] = [];
            for (; i < lines.length; i++) {
                const m = LIST_ITEM.exec(lines[i]!);
                if (!m || (m[2] !== undefined) !== ordered) break;
                items.push(parseInline(m[3]!));
            }
            i--;
            blocks.push({ kind: "list", ordered, items });
            continue;
        }
        if (line.trim() === "") flushParagraph();
        else paragraph.push(line);
    }
    flushParagraph();
    return blocks;
}

/** Delimiters in the order they are tried at a position. */
const SPANS: Array<{ open: string; kind: "code" | "strong" | "em" }> = [
    { open: "`", kind: "code" },
    { open: "**", kind: "strong" },
    { open: "__", kind: "strong" },
    { open: "*", kind: "em" },
    { open: "_", kind: "em" }
];

export function parseInline(text: string): Inline[] {
    const out: Inline[] = [];
    let plain = "";
    const flush = () => {
        if (plain !== "") out.push({ kind: "text", text: plain });
        plain = "";
    };
    let i = 0;
    while (i < text.length) {
        if (text[i] === "\n") {
            flush();
            out.push({ kind: "break" });
            i++;
            continue;
        }
        let matched = false;
        for (const span of SPANS) {
            if (!text.startsWith(span.open, i)) continue;
            const start = i + span.open.length;
            const end = text.indexOf(span.open, start);
            // An empty span, or one that starts with a space ("2 * 3 * 4"), is not emphasis.
            if (end <= start || /\s/.test(text[start]!)) continue;
            const inner = text.slice(start, end);
            flush();
            if (span.kind === "code") out.push({ kind: "code", text: inner });
            else out.push({ kind: span.kind, children: parseInline(inner) });
            i = end + span.open.length;
            matched = true;
            break;
        }
        if (!matched) {
            plain += text[i];
            i++;
        }
    }
    flush();
    return out;
}

/** The only elements the renderer creates, and it sets no attributes on them. */
export const MARKDOWN_TAGS = ["p", "pre", "code", "strong", "em", "ul", "ol", "li", "br"] as const;
export type MarkdownTag = (typeof MARKDOWN_TAGS)[number];

/** How nodes are made: document.createElement/createTextNode in the webview, plain objects in tests. */
export interface NodeFactory<N> {
    element(tag: MarkdownTag, children: N[]): N;
    text(text: string): N;
}

export function buildMarkdown<N>(blocks: readonly Block[], f: NodeFactory<N>): N[] {
    const inline = (nodes: readonly Inline[]): N[] =>
        nodes.map((node): N => {
            switch (node.kind) {
                case "text":
                    return f.text(node.text);
                case "code":
                    return f.element("code", [f.text(node.text)]);
                case "break":
                    return f.element("br", []);
                case "strong":
                    return f.element("strong", inline(node.children));
                case "em":
                    return f.element("em", inline(node.children));
            }
        });
    return blocks.map((block): N => {
        switch (block.kind) {
            case "paragraph":
                return f.element("p", inline(block.children));
            case "codeBlock":
                return f.element("pre", [f.element("code", [f.text(block.text)])]);
            case "list":
                return f.element(block.ordered ? "ol" : "ul", block.items.map((item) => f.element("li", inline(item))));
        }
    });
}

/** The webview's factory: elements by tag name and text nodes, nothing parsed as HTML. */
export function domFactory(doc: Document): NodeFactory<Node> {
    return {
        element: (tag, children) => {
            const el = doc.createElement(tag);
            el.append(...children);
            return el;
        },
        text: (text) => doc.createTextNode(text)
    };
}
