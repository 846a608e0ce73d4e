// The Jinja variables that both training (render.ts) and chat (chatWrapper.ts) pass to the model's template.
// They live in one place because any difference is a difference in tokens between what we train on and what
// chat sends.

/**
 * Templates such as Llama 3.x print "Today Date: …" from `strftime_now()` unless `date_string` is set, so the
 * prompt would change every day and training data rendered on Monday would not match a chat on Tuesday.
 * We pin the date the template itself falls back to.
 */
export const PINNED_DATE_STRING = "26 Jul 2024";

/** Training data has no hidden reasoning, so templates with a thinking switch (Gemma 4, Qwen 3) run with it off. */
export const ENABLE_THINKING = false;

export const TEMPLATE_RENDER_PARAMETERS: Readonly<Record<string, unknown>> = Object.freeze({
    date_string: PINNED_DATE_STRING,
    enable_thinking: ENABLE_THINKING
});

/**
 * node-llama-cpp's format for templates that reject a system role (it retries with the system message turned
 * into a user message). Copied as data so our rendering folds system prompts the same way chat does.
 */
export const SYSTEM_AS_USER_FORMAT = "### System message\n\n{{message}}\n\n----";
