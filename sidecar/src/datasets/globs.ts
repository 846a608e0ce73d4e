// Per-glob format settings. A tiny glob matcher (`**`, `*`, `?`, `{a,b}`) keeps the core free of dependencies.
import type { FormatOverride, ValidateOptions } from "./types";

const cache = new Map<string, RegExp>();

function globToRegExp(glob: string): RegExp {
    let re = "";
    for (let i = 0; i < glob.length; i++) {
        const c = glob[i]!;
        if (c === "*") {
            if (glob[i + 1] === "*") {
                // `**/` matches zero or more whole directories; a bare `**` matches anything.
                const slash = glob[i + 2] === "/";
                re += slash ? "(?:.*/)?" : ".*";
                i += slash ? 2 : 1;
            } else re += "[^/]*";
        } else if (c === "?") re += "[^/]";
        else if (c === "{") {
            const close = glob.indexOf("}", i);
            if (close < 0) re += "\\{";
            else {
                re += `(?:${glob.slice(i + 1, close).split(",").map((alt) => alt.replace(/[.+^$()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*")).join("|")})`;
                i = close;
            }
        } else re += c.replace(/[.+^$()|[\]\\}]/g, "\\$&");
    }
    return new RegExp(`^${re}$`);
}

/**
 * True when `path` (any separators) matches `glob`. Globs are anchored at any directory boundary, so
 * `data/*.jsonl` matches both the workspace-relative `data/a.jsonl` and an absolute `/home/u/proj/data/a.jsonl`.
 */
export function matchGlob(glob: string, path: string): boolean {
    const normalized = path.replace(/\\/g, "/");
    const bare = glob.replace(/^\.\//, "");
    const pattern = bare.startsWith("/") || bare.startsWith("**") ? bare : `**/${bare}`;
    let re = cache.get(pattern);
    if (!re) cache.set(pattern, (re = globToRegExp(pattern)));
    return re.test(normalized);
}

/** The options for one file: the first matching override sets the format (and column mapping) on top of `base`. */
export function optionsForPath(path: string, overrides: readonly FormatOverride[], base: ValidateOptions = {}): ValidateOptions {
    const hit = overrides.find((o) => matchGlob(o.glob, path));
    if (!hit) return base;
    return { ...base, format: hit.format, columnMapping: hit.columnMapping ?? base.columnMapping };
}
