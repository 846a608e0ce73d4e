// node-llama-cpp is imported lazily, at first use: it is ESM-only, loads a native addon and takes 1.5–2 s to import,
// and most commands (`lora-studio validate`, the language server's validation) never need it. A static import of a
// value would make esbuild hoist it to the top of every bundle that reaches this module.
type NodeLlamaCpp = typeof import("node-llama-cpp");

let loading: Promise<NodeLlamaCpp> | undefined;

export function loadNodeLlamaCpp(): Promise<NodeLlamaCpp> {
    loading ??= import("node-llama-cpp");
    return loading;
}
