// How messages quote the user's data: at most a short excerpt, JSON-escaped, so a message never carries a whole
// line of a file, a control character or a NUL byte to a terminal, and never more than a key or a value the
// validator parsed out of a JSON object. Raw lines are never quoted: a syntax error says where, not what (a file
// given as data by mistake, /etc/shadow say, must not be echoed).

/** Characters of user data a message may quote. */
export const EXCERPT_CHARS = 40;

/** `value` as JSON, cut to EXCERPT_CHARS characters of its content with "…" when cut; escapes everything unprintable. */
export function excerpt(value: unknown, max = EXCERPT_CHARS): string {
    if (typeof value === "string") return `${JSON.stringify(value.length > max ? value.slice(0, max) : value)}${value.length > max ? "…" : ""}`;
    const json = JSON.stringify(value) ?? String(value);
    return json.length > max ? `${json.slice(0, max)}…` : json;
}
