// A tiny, transparent tokenizer for fast unit tests: each listed special string is one token (only when special
// tokens are enabled, as in llama.cpp), every other character is its code point. Real tokenizers are covered by
// the template tests.
import type { PipelineTokenizer } from "../../../../sidecar/src/pipeline/types";

export const CHATML_TEMPLATE =
    "{{ bos_token }}{% for m in messages %}{{ '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}{% endfor %}" +
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

export function fakeTokenizer(specials: readonly string[] = ["<s>", "</s>", "<|im_start|>", "<|im_end|>"], endOfGeneration: readonly string[] = ["</s>", "<|im_end|>"]): PipelineTokenizer {
    const ids = new Map(specials.map((s, i) => [s, 100000 + i] as const));
    const byId = new Map(specials.map((s, i) => [100000 + i, s] as const));
    const eog = new Set(endOfGeneration.map((s) => ids.get(s)));
    return {
        tokenize(text, special) {
            const out: number[] = [];
            for (let i = 0; i < text.length;) {
                const hit = special ? specials.find((s) => text.startsWith(s, i)) : undefined;
                if (hit) {
                    out.push(ids.get(hit)!);
                    i += hit.length;
                } else {
                    const cp = text.codePointAt(i)!;
                    out.push(cp);
                    i += cp > 0xffff ? 2 : 1;
                }
            }
            return out;
        },
        detokenize: (tokens) => tokens.map((t) => byId.get(t) ?? String.fromCodePoint(t)).join(""),
        bos: ids.get("<s>"),
        eos: ids.get("</s>"),
        addBos: true,
        isEndOfGeneration: (t) => eog.has(t)
    };
}

/** The trained spans of a sequence, decoded: one string per run of consecutive targets. */
export function trainedSpans(tokens: Int32Array, mask: Uint8Array, detokenize: (t: number[]) => string): string[] {
    const spans: string[] = [];
    let run: number[] = [];
    for (let i = 0; i <= tokens.length; i++) {
        if (i < tokens.length && mask[i] === 1) run.push(tokens[i]!);
        else if (run.length > 0) {
            spans.push(detokenize(run));
            run = [];
        }
    }
    return spans;
}
