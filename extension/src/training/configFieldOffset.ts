// Where a run config's failing field is in the editor's text: the sidecar's error names the field by path
// (ConfigFieldProblem.path), never by prose, so "Open Config" can put the cursor on it. No vscode import, so the
// unit tests run it.
// The ESM build by path: jsonc-parser's `main` is a UMD bundle whose dynamic requires esbuild cannot follow.
import { findNodeAtLocation, parseTree } from "jsonc-parser/lib/esm/main.js";

/**
 * The offset of the field at `path` in `text`: its key for a property, its value for an array entry. A missing field
 * ("data") points at the object that lacks it. Undefined when the text does not parse or has no such object.
 */
export function configFieldOffset(text: string, path: ReadonlyArray<string | number>): number | undefined {
    const tree = parseTree(text, [], { allowTrailingComma: true });
    if (!tree) return undefined;
    const node = findNodeAtLocation(tree, [...path]) ?? (path.length > 0 ? findNodeAtLocation(tree, path.slice(0, -1)) : undefined);
    if (!node) return undefined;
    return node.parent?.type === "property" ? node.parent.offset : node.offset;
}
