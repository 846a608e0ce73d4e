// The duplicate-candidate hash of a normalized example: FNV-1a over each message's role and a sample of its
// trimmed content, plus the total length. Shared by the full line check and the fast chat path (fastChat.ts),
// which must agree bit for bit: a duplicate is only found when both lines hash alike.
// The running hash is passed in and returned (not kept in module state): an int32 outside the small-integer range
// would be boxed on every write to a module variable, a heap allocation per character.

/** Trimmed length of the last content hashed (a small integer: no heap number per write). */
let trimmedLength = 0;

/** Characters hashed per content string: all of a short one; of a long one, its head, its tail and a spread. */
const HASH_EDGE = 16;
const HASH_SPREAD = 8;

/** The characters String.prototype.trim removes (ECMAScript WhiteSpace and LineTerminator). */
export function isTrimmable(c: number): boolean {
    return c <= 0x20
        ? c === 0x20 || (c >= 0x09 && c <= 0x0d)
        : c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

/** The initial hash of one example; `raw` (text format) keeps a raw text apart from an identical assistant-only chat. */
export function beginExampleHash(raw: boolean): number {
    return raw ? 0x9e3779b9 | 0 : 0x811c9dc5 | 0;
}

/**
 * Adds one message to hash `h`: its role's first character and the trimmed content `s[from, to)` (the fast path
 * hashes in place, inside the line). Add `lastTrimmedLength()` to the example's total length after each call.
 */
export function hashMessage(h: number, roleCode: number, s: string, from: number, to: number): number {
    h = Math.imul(h ^ roleCode, 0x01000193);
    h = hashTrimmed(h, s, from, to);
    return Math.imul(h ^ 0x1f, 0x01000193);
}

export function lastTrimmedLength(): number {
    return trimmedLength;
}

/** The example's key from its hash and total trimmed length: 30 bits stay a small integer; collisions are confirmed by exampleText(). */
export function exampleKey(h: number, totalLength: number): number {
    return Math.imul(h ^ totalLength, 0x01000193) & 0x3fffffff;
}

/**
 * Hashes a sample of `s[from, to)` trimmed. A per-character loop in JS costs half of what JSON.parse costs for the
 * whole line, so long strings are sampled: the head and tail (where near-duplicates usually differ) and a spread.
 * The hash only finds candidates; exampleText() confirms them, so sampling never yields a false duplicate.
 */
function hashTrimmed(h: number, s: string, from: number, to: number): number {
    while (from < to && isTrimmable(s.charCodeAt(from))) from++;
    while (to > from && isTrimmable(s.charCodeAt(to - 1))) to--;
    const len = to - from;
    if (len <= 2 * HASH_EDGE + HASH_SPREAD) {
        for (let i = from; i < to; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    } else {
        for (let i = 0; i < HASH_EDGE; i++) h = Math.imul(h ^ s.charCodeAt(from + i), 0x01000193);
        for (let i = 0; i < HASH_EDGE; i++) h = Math.imul(h ^ s.charCodeAt(to - 1 - i), 0x01000193);
        const step = Math.floor(len / (HASH_SPREAD + 1));
        for (let i = 1; i <= HASH_SPREAD; i++) h = Math.imul(h ^ s.charCodeAt(from + i * step), 0x01000193);
    }
    trimmedLength = len;
    return Math.imul(h ^ (len & 0xffff), 0x01000193);
}
