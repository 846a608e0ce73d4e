// The chat panel's Markdown renderer must never turn model output into markup: hostile answers (script
// tags, event-handler attributes, javascript: links) come out as text nodes inside the few whitelisted
// elements, with no attributes at all. The renderer is checked through a node-side factory that records
// exactly what the DOM factory would create.
import assert from "node:assert/strict";
import { test } from "node:test";
import { buildMarkdown, MARKDOWN_TAGS, parseMarkdown, type NodeFactory } from "../../../media/chat/markdown";

type FakeNode = { tag: string; attributes: Record<string, string>; children: FakeNode[] } | { text: string };

const fakeFactory: NodeFactory<FakeNode> = {
    element: (tag, children) => ({ tag, attributes: {}, children }),
    text: (text) => ({ text })
};

function render(source: string): FakeNode[] {
    return buildMarkdown(parseMarkdown(source), fakeFactory);
}

function walk(nodes: FakeNode[], visit: (node: FakeNode) => void): void {
    for (const node of nodes) {
        visit(node);
        if ("tag" in node) walk(node.children, visit);
    }
}

function tags(nodes: FakeNode[]): string[] {
    const out: string[] = [];
    walk(nodes, (n) => "tag" in n && out.push(n.tag));
    return out;
}

function text(nodes: FakeNode[]): string {
    let out = "";
    walk(nodes, (n) => {
        if ("text" in n) out += n.text;
    });
    return out;
}

const HOSTILE = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[click me](javascript:alert(1))",
    "![img](javascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    "**<b onmouseover=alert(1)>bold</b>**",
    "`<script>code</script>`",
    "```html\n<script>alert(1)</script>\n<iframe src=//evil></iframe>\n```",
    "- <svg onload=alert(1)>\n- *<style>body{display:none}</style>*",
    "&lt;script&gt; &#60;img&#62; \u003cscript\u003e"
];

test("hostile answers render as text in whitelisted, attribute-free elements", () => {
    for (const source of HOSTILE) {
        const nodes = render(source);
        walk(nodes, (node) => {
            if (!("tag" in node)) return;
            assert.ok((MARKDOWN_TAGS as readonly string[]).includes(node.tag), `${JSON.stringify(source)} created <${node.tag}>`);
            assert.deepEqual(node.attributes, {}, `${JSON.stringify(source)} set attributes on <${node.tag}>`);
        });
        for (const forbidden of ["script", "img", "a", "iframe", "svg", "style", "b"]) {
            assert.ok(!tags(nodes).includes(forbidden), `${JSON.stringify(source)} created <${forbidden}>`);
        }
    }
    // The dangerous characters survive as text, exactly: the user sees what the model wrote.
    assert.equal(text(render("<script>alert(1)</script>")), "<script>alert(1)</script>");
    assert.equal(text(render('<img src=x onerror="alert(1)">')), '<img src=x onerror="alert(1)">');
    assert.equal(text(render("[click me](javascript:alert(1))")), "[click me](javascript:alert(1))");
    assert.equal(text(render("&lt;script&gt;")), "&lt;script&gt;", "entities are not decoded");
});

test("the subset: paragraphs, code blocks, inline code, bold, italic, lists", () => {
    const nodes = render("Hello **bold** and *it* and `x < y`\nnext line\n\nSecond\n\n```ts\nconst a = 1 * 2 * 3;\n```\n- one\n- **two**\n\n1. first\n2. second");
    assert.deepEqual(nodes, [
        {
            tag: "p", attributes: {}, children: [
                { text: "Hello " },
                { tag: "strong", attributes: {}, children: [{ text: "bold" }] },
                { text: " and " },
                { tag: "em", attributes: {}, children: [{ text: "it" }] },
                { text: " and " },
                { tag: "code", attributes: {}, children: [{ text: "x < y" }] },
                { tag: "br", attributes: {}, children: [] },
                { text: "next line" }
            ]
        },
        { tag: "p", attributes: {}, children: [{ text: "Second" }] },
        { tag: "pre", attributes: {}, children: [{ tag: "code", attributes: {}, children: [{ text: "const a = 1 * 2 * 3;" }] }] },
        {
            tag: "ul", attributes: {}, children: [
                { tag: "li", attributes: {}, children: [{ text: "one" }] },
                { tag: "li", attributes: {}, children: [{ tag: "strong", attributes: {}, children: [{ text: "two" }] }] }
            ]
        },
        {
            tag: "ol", attributes: {}, children: [
                { tag: "li", attributes: {}, children: [{ text: "first" }] },
                { tag: "li", attributes: {}, children: [{ text: "second" }] }
            ]
        }
    ]);
});

test("a streaming answer with an open fence renders its code so far; stray markers stay text", () => {
    assert.deepEqual(render("Code:\n```\nlet x"), [
        { tag: "p", attributes: {}, children: [{ text: "Code:" }] },
        { tag: "pre", attributes: {}, children: [{ tag: "code", attributes: {}, children: [{ text: "let x" }] }] }
    ]);
    assert.equal(text(render("2 * 3 * 4 and a lone ` and **")), "2 * 3 * 4 and a lone ` and **");
    assert.deepEqual(tags(render("2 * 3 * 4")), ["p"]);
});
