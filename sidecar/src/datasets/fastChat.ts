// A fast path for the commonest line: a clean chat example such as
//   {"messages":[{"role":"system","content":"…"},{"role":"user","content":"…"},{"role":"assistant","content":"…"}]}
// It scans the characters once, without JSON.parse building objects, and answers only "surely valid, nothing to
// report" or "not sure". Anything unusual (another key, escapes in a key or role, an empty, blank or padded
// content, a system message after the first, no assistant turn, a syntax error) is "not sure", and the full
// path (JSON.parse, ajv, the content checks) decides, so ajv stays the single source of truth for every error.
// test/unit/datasets/fastChat.test.ts checks that no line the full path would flag is ever accepted here.
import { beginExampleHash, exampleKey, hashMessage, isTrimmable } from "./exampleHash";

/** What an accepted line yields (overwritten by each call: no allocation per line). */
export const fastChatResult = { key: 0, system: 0, user: 0, assistant: 0 };

// Per-character loops in JS cost about as much as JSON.parse itself, so the structure is checked by regular
// expressions (compiled to native code by V8) and JS only reads the few characters around each match.
/** `{"messages": [` with JSON whitespace anywhere (\n and \r cannot occur inside a line). */
const LINE_HEAD = /[ \t]*\{[ \t]*"messages"[ \t]*:[ \t]*\[/y;
/**
 * One message, role first, content second, then `,` or the end of the line (`]}`). The content's characters are
 * JSON's: no raw control characters, only valid escapes, written as an unrolled loop (runs of plain characters
 * between escapes) so a long string does not build a backtracking stack per character. Lines with the keys in the
 * other order, or other keys, are "not sure".
 */
const MESSAGE = /[ \t]*\{[ \t]*"role"[ \t]*:[ \t]*"(?:system|user|assistant)"[ \t]*,[ \t]*"content"[ \t]*:[ \t]*"[^"\\\x00-\x1f]*(?:\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})[^"\\\x00-\x1f]*)*"[ \t]*\}[ \t]*(?:,|\][ \t]*\}[ \t]*$)/y;

/** Longer lines (rare, and flagged as long anyway) take the full path rather than stress the regex engine. */
const MAX_FAST_LINE = 1 << 20;

const QUOTE = 0x22;
const COMMA = 0x2c;
const ROLE_SYSTEM = 0x73; // first characters, as the full path hashes them
const ROLE_USER = 0x75;
const ROLE_ASSISTANT = 0x61;

/** The first position at or after `p` that is not JSON whitespace. */
function skipForward(text: string, p: number): number {
    for (;;) {
        const c = text.charCodeAt(p);
        if (c !== 0x20 && c !== 0x09) return p;
        p++;
    }
}

/** The last position at or before `p` that is not JSON whitespace. */
function skipBack(text: string, p: number): number {
    for (;;) {
        const c = text.charCodeAt(p);
        if (c !== 0x20 && c !== 0x09) return p;
        p--;
    }
}

/**
 * True when `text[start, end)` is a chat example the full check would accept without a single diagnostic; then
 * fastChatResult holds its duplicate key (the same as the full path computes) and role counts. False means
 * "not sure": run the full check. `start` and `end` exclude the line's surrounding whitespace.
 */
export function fastChatLine(text: string, start: number, end: number): boolean {
    // The regular expressions anchor at the line's end with `$`: only a line without trailing text qualifies.
    if (end !== text.length || end - start > MAX_FAST_LINE) return false;
    LINE_HEAD.lastIndex = start;
    if (!LINE_HEAD.test(text)) return false;
    let p = LINE_HEAD.lastIndex;
    let system = 0;
    let user = 0;
    let assistant = 0;
    let h = beginExampleHash(false);
    let length = 0;
    // Escapes are rare: find the next backslash once and decode only the content that holds it.
    let backslash = text.indexOf("\\", p);
    for (let index = 0; ; index++) {
        MESSAGE.lastIndex = p;
        if (!MESSAGE.test(text)) return false; // also an empty messages array (minItems)
        const next = MESSAGE.lastIndex;
        // Walk in from both ends of the match to the role and the content: `{ "role" : "` is 8 characters plus space.
        let q = skipForward(text, skipForward(text, p) + 1); // after `{`: at `"role"`
        q = skipForward(text, skipForward(text, q + 6) + 1) + 1; // past `:` and the opening quote of the role
        const roleCode = text.charCodeAt(q);
        const roleLength = roleCode === ROLE_ASSISTANT ? 9 : roleCode === ROLE_USER ? 4 : 6;
        q = skipForward(text, skipForward(text, q + roleLength + 1) + 1); // past `,`: at `"content"`
        const contentFrom = skipForward(text, skipForward(text, q + 9) + 1) + 1; // past `:` and the opening quote
        const more = text.charCodeAt(next - 1) === COMMA; // else the match ended the line with `]}`
        let r = skipBack(text, next - 1 - (more ? 1 : 0));
        if (!more) r = skipBack(text, skipBack(text, r - 1) - 1); // back over `}` and `]` to the message's `}`
        const contentTo = skipBack(text, r - 1); // the closing quote
        if (text.charCodeAt(contentTo) !== QUOTE) return false; // cannot happen after the match; stay safe
        if (roleCode === ROLE_SYSTEM) {
            if (index > 0) return false; // LS202
            system++;
        } else if (roleCode === ROLE_USER) user++;
        else assistant++;
        let content = text;
        let from = contentFrom;
        let to = contentTo;
        if (backslash >= 0 && backslash < contentTo) {
            // The string matched JSON's grammar above, so JSON.parse decodes it.
            content = JSON.parse(text.slice(contentFrom - 1, contentTo + 1)) as string;
            from = 0;
            to = content.length;
            backslash = text.indexOf("\\", contentTo);
        }
        // Empty, blank or padded content is reported by the full path (LS203, LS204).
        if (to === from || isTrimmable(content.charCodeAt(from)) || isTrimmable(content.charCodeAt(to - 1))) return false;
        h = hashMessage(h, roleCode, content, from, to);
        length += to - from;
        if (!more) break;
        p = next;
    }
    if (assistant === 0) return false; // LS201
    fastChatResult.key = exampleKey(h, length);
    fastChatResult.system = system;
    fastChatResult.user = user;
    fastChatResult.assistant = assistant;
    return true;
}
