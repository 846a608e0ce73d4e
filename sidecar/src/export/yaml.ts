// A small, deterministic YAML writer for the configs we export (Axolotl's config.yml), so no YAML library is needed.
// It writes block style only, keys in insertion order, and quotes every string that a YAML reader could take for
// something else. The reader that matters is PyYAML (yaml.safe_load, YAML 1.1), which Axolotl uses: there `yes`,
// `on`, `1e-8` (no dot) and `0755` mean other things than in YAML 1.2, so the rules below follow the stricter of both.

export type YamlValue = null | boolean | number | string | readonly YamlValue[] | { readonly [key: string]: YamlValue | undefined };

const INDENT = "  ";

/** Words YAML 1.1 reads as booleans or null, in any case. */
const RESERVED = new Set(["true", "false", "yes", "no", "on", "off", "y", "n", "null", "~"]);

/** A string is written bare only when it is plainly a word or a path and cannot be read as a number, bool or null. */
function isPlainSafe(s: string): boolean {
    if (!/^[A-Za-z_./][A-Za-z0-9_./-]*$/.test(s)) return false;
    if (RESERVED.has(s.toLowerCase())) return false;
    // ".5", ".inf", ".nan" are floats to YAML.
    if (/^\.(?:[0-9]|inf$|nan$)/i.test(s)) return false;
    return true;
}

/** Double-quoted scalar: JSON's escapes are all valid YAML double-quoted escapes. */
function quoted(s: string): string {
    return JSON.stringify(s);
}

/**
 * A number PyYAML reads back as the same number: integers as is; floats always with a dot before any exponent and a
 * signed exponent (PyYAML's float pattern needs both: `1e-8` would load as a string).
 */
export function yamlNumber(n: number): string {
    if (!Number.isFinite(n)) throw new Error(`YAML export: ${n} is not a finite number`);
    if (Number.isInteger(n) && Math.abs(n) < 1e21) return String(n);
    const text = String(n);
    const m = /^(-?)(\d+)(?:\.(\d+))?e([+-]?)(\d+)$/.exec(text);
    if (!m) return text; // plain decimal, e.g. 0.0002
    const [, sign, int, frac, expSign, exp] = m;
    return `${sign}${int}.${frac ?? "0"}e${expSign === "-" ? "-" : "+"}${exp}`;
}

function scalar(value: null | boolean | number | string): string {
    if (value === null) return "null";
    if (typeof value === "boolean") return value ? "true" : "false";
    if (typeof value === "number") return yamlNumber(value);
    return isPlainSafe(value) ? value : quoted(value);
}

function key(k: string): string {
    return isPlainSafe(k) ? k : quoted(k);
}

function isMapping(v: YamlValue): v is { readonly [key: string]: YamlValue | undefined } {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

function entries(map: { readonly [key: string]: YamlValue | undefined }): [string, YamlValue][] {
    // undefined means "not set": the key is left out, as JSON.stringify does.
    return Object.entries(map).filter((e): e is [string, YamlValue] => e[1] !== undefined);
}

/** Lines of a value placed after `key:` or `- ` at `depth`. */
function block(value: YamlValue, depth: number): { inline?: string; lines?: string[] } {
    if (Array.isArray(value)) {
        if (value.length === 0) return { inline: "[]" };
        return { lines: (value as YamlValue[]).flatMap((item) => sequenceItem(item, depth)) };
    }
    if (isMapping(value)) {
        const kv = entries(value);
        if (kv.length === 0) return { inline: "{}" };
        return { lines: kv.flatMap(([k, v]) => mappingEntry(k, v, depth)) };
    }
    return { inline: scalar(value as null | boolean | number | string) };
}

function mappingEntry(k: string, v: YamlValue, depth: number): string[] {
    const pad = INDENT.repeat(depth);
    const b = block(v, depth + 1);
    if (b.inline !== undefined) return [`${pad}${key(k)}: ${b.inline}`];
    return [`${pad}${key(k)}:`, ...b.lines!];
}

function sequenceItem(item: YamlValue, depth: number): string[] {
    const pad = INDENT.repeat(depth);
    const b = block(item, depth + 1);
    if (b.inline !== undefined) return [`${pad}- ${b.inline}`];
    if (isMapping(item)) {
        // The first key shares the dash's line: "- path: x", then the rest aligned under it.
        const [first, ...rest] = b.lines!;
        return [`${pad}- ${first!.slice(pad.length + INDENT.length)}`, ...rest];
    }
    // A sequence inside a sequence: its own lines, one level deeper.
    return [`${pad}-`, ...b.lines!];
}

/** The document for a top-level mapping, ending with a newline. */
export function toYaml(doc: { readonly [key: string]: YamlValue | undefined }): string {
    return `${entries(doc).flatMap(([k, v]) => mappingEntry(k, v, 0)).join("\n")}\n`;
}
