// The evaluation: every held-out example answered greedily by the base model and by base + adapter, scored
// against its reference (exact match, token F1, yes/no/maybe) and by the reference's loss under each model,
// then summarized and written as eval-<timestamp>.json/.csv. Used by `lora-studio eval` and `eval/run`.
import type { LlamaModel } from "node-llama-cpp";
import { getCpuLlama, pipelineTokenizerFor, chatTemplateIn } from "../pipeline/llamaTokenizer";
import { renderConversation, renderPromptTokens, TemplateRenderError } from "../pipeline/render";
import type { PipelineTokenizer } from "../pipeline/types";
import type { EvalReport, EvalRow, EvalSkip } from "../protocol/sidecar";
import { AdapterMismatchError, checkAdapterFitsModel } from "../adapters/adapterFit";
import { defaultInferenceThreads, weightsPerToken } from "../chat/inferenceThreads";
import { openModelFile } from "../gguf";
import { EVAL_RUN_PARAMS } from "../params/commands";
import { checkLimit } from "../params/schema";
import type { HeldOutExample } from "./heldOut";
import { aggregate, scoreAnswer, type RowLossTotals } from "./metrics";
import { AdapterLoadError, EvalModels, type ScoredTokens } from "./models";
import { writeReportFiles } from "./reportFiles";
import { EvalInputError, resolveEvalSource, type EvalSourceOptions } from "./sources";

export { EvalInputError } from "./sources";

export const DEFAULT_EVAL_MAX_TOKENS = 128;

export interface EvalProgress {
    /** Examples scored or skipped so far, out of `total`. */
    done: number;
    total: number;
    row?: EvalRow;
}

export interface EvalOptions extends EvalSourceOptions {
    maxTokens?: number;
    /** Only the first N held-out examples. */
    limit?: number;
    /** Report directory; default the run directory, else the adapter's folder. */
    outDir?: string;
    /** Skip writing the report files (the caller only wants the numbers). */
    noFiles?: boolean;
    threads?: number;
    onProgress?: (progress: EvalProgress) => void;
    /** Aborting stops after the current answer; the report then has `cancelled: true` and no files. */
    signal?: AbortSignal;
    now?: () => Date;
}

interface Planned {
    example: HeldOutExample;
    scored: ScoredTokens;
    promptLength: number;
}

/** Renders the reference turn exactly as training does and marks its tokens (after the prompt) as targets. */
function plan(example: HeldOutExample, template: string, tokenizer: PipelineTokenizer): Planned {
    const messages = [...example.prompt, { role: "assistant" as const, content: example.reference }];
    const sequence = renderConversation(template, messages, tokenizer).at(-1)!;
    const prompt = renderPromptTokens(template, example.prompt, tokenizer);
    const tokens = Array.from(sequence.tokens);
    if (!prompt.every((t, i) => tokens[i] === t)) {
        throw new TemplateRenderError("the chat template renders the prompt differently once the answer follows, so the answer's loss cannot be measured");
    }
    const targets: number[] = [];
    for (let t = prompt.length; t < tokens.length; t++) if (sequence.trainMask[t] === 1) targets.push(t);
    return { example, scored: { tokens, targets }, promptLength: prompt.length };
}

/** Room for the longest prompt plus a full answer, and for the longest scored sequence; at most the model's own. */
function contextSizeFor(planned: readonly Planned[], maxTokens: number, model: LlamaModel): number {
    const needed = Math.max(256, ...planned.map((p) => Math.max(p.promptLength + maxTokens, p.scored.tokens.length) + 8));
    return Math.min(model.trainContextSize, Math.ceil(needed / 256) * 256);
}

async function loadModel(modelPath: string): Promise<LlamaModel> {
    const llama = await getCpuLlama();
    try {
        return await llama.loadModel({ modelPath });
    } catch (error) {
        throw new EvalInputError(`cannot load base model ${modelPath}: ${(error as Error).message}`);
    }
}

export async function runEval(options: EvalOptions): Promise<EvalReport> {
    const started = Date.now();
    const now = options.now ?? (() => new Date());
    const maxTokens = options.maxTokens ?? DEFAULT_EVAL_MAX_TOKENS;
    if (!(Number.isInteger(maxTokens) && maxTokens >= 1)) throw new EvalInputError(`maxTokens must be an integer >= 1, got ${maxTokens}`);
    if (options.limit !== undefined && !(Number.isInteger(options.limit) && options.limit >= 1)) throw new EvalInputError(`limit must be an integer >= 1, got ${options.limit}`);

    const source = await resolveEvalSource(options);
    let warnings: string[];
    try {
        warnings = checkAdapterFitsModel(source.model, source.adapter);
    } catch (error) {
        if (error instanceof AdapterMismatchError) throw new EvalInputError(error.message);
        throw error;
    }
    const examples = source.heldOut.examples.slice(0, options.limit);
    const skipped: EvalSkip[] = [...source.heldOut.skipped];
    if (examples.length === 0) {
        throw new EvalInputError(`no held-out example to evaluate in ${source.dataFiles.join(", ")}${skipped.length > 0 ? ` (${skipped.length} skipped; first: line ${skipped[0]!.line}: ${skipped[0]!.reason})` : ""}`);
    }

    const model = await loadModel(source.model);
    let models: EvalModels | undefined;
    try {
        // The longest answer must fit the model's context (a bound known only now); the schema words the error.
        checkLimit(EVAL_RUN_PARAMS, "maxTokens", maxTokens, { contextSize: model.trainContextSize }, { face: "rpc", method: "eval/run" });
        const threads = defaultInferenceThreads(weightsPerToken(openModelFile(source.model, { skipArraysOver: 0 }).tensors), options.threads);
        const template = chatTemplateIn(model);
        if (template === undefined) throw new EvalInputError(`${source.model} has no tokenizer.chat_template in its GGUF metadata; evaluation asks questions, so it needs a chat (instruct) model`);
        const tokenizer = pipelineTokenizerFor(model);
        const planned: Planned[] = [];
        for (const example of examples) {
            try {
                planned.push(plan(example, template, tokenizer));
            } catch (error) {
                if (!(error instanceof TemplateRenderError)) throw error;
                skipped.push({ file: example.file, line: example.line, reason: error.message });
            }
        }
        try {
            models = await EvalModels.open(model, {
                modelPath: source.model,
                adapterPath: source.adapter,
                contextSize: contextSizeFor(planned, maxTokens, model),
                threads
            });
        } catch (error) {
            if (error instanceof AdapterLoadError) throw new EvalInputError(error.message);
            throw error;
        }

        const total = examples.length;
        let done = examples.length - planned.length; // the ones the template could not render
        options.onProgress?.({ done, total });
        const rows: EvalRow[] = [];
        const losses: RowLossTotals[] = [];
        let cancelled = false;
        for (const { example, scored } of planned) {
            if (options.signal?.aborted) {
                cancelled = true;
                break;
            }
            let answers: { base: string; tuned: string };
            try {
                answers = {
                    base: await models.answer("base", example.prompt, maxTokens, options.signal),
                    tuned: await models.answer("tuned", example.prompt, maxTokens, options.signal)
                };
            } catch (error) {
                if (options.signal?.aborted) {
                    cancelled = true;
                    break;
                }
                throw error;
            }
            const base = await models.referenceNll("base", scored);
            const tuned = await models.referenceNll("tuned", scored);
            const baseScore = scoreAnswer(answers.base, example.reference);
            const tunedScore = scoreAnswer(answers.tuned, example.reference);
            const perToken = (nll: number): number => (base.tokens === 0 ? 0 : nll / base.tokens);
            const row: EvalRow = {
                file: example.file,
                line: example.line,
                question: example.question,
                reference: example.reference,
                base: answers.base,
                tuned: answers.tuned,
                em: { base: baseScore.em, tuned: tunedScore.em },
                f1: { base: baseScore.f1, tuned: tunedScore.f1 },
                yesNo: baseScore.yesNo === null || tunedScore.yesNo === null ? null : { base: baseScore.yesNo, tuned: tunedScore.yesNo },
                loss: { base: perToken(base.nll), tuned: perToken(tuned.nll) }
            };
            rows.push(row);
            losses.push({ nll: { base: base.nll, tuned: tuned.nll }, tokens: base.tokens });
            options.onProgress?.({ done: ++done, total, row });
        }

        skipped.sort((a, b) => (a.file === b.file ? a.line - b.line : a.file < b.file ? -1 : 1));
        const report: EvalReport = {
            formatVersion: 1,
            createdAt: now().toISOString(),
            model: source.model,
            adapter: source.adapter,
            data: source.dataFiles,
            source: source.source,
            ...(source.runId === undefined ? {} : { runId: source.runId }),
            maxTokens,
            summary: aggregate(rows, losses, skipped.length),
            rows,
            skipped,
            cancelled,
            elapsedSeconds: (Date.now() - started) / 1000,
            ...(warnings.length > 0 ? { warnings } : {})
        };
        if (!cancelled && !options.noFiles) writeReportFiles(report, options.outDir ?? source.defaultOutDir);
        return report;
    } finally {
        await models?.dispose();
        await model.dispose();
    }
}
