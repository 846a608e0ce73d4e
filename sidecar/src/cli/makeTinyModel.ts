// `lora-studio make-tiny-model --out FILE [--arch NAME] [--seed N] [--quant f32|f16|bf16|q4_0|q4_k_m] [--experts N]
//  [--layers N --embd N --heads N --kv-heads N --ffn N]`
import { rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { loadEngine } from "../engine";
import { TINY_MODEL_ARCHS, makeTinyModel, type TinyModelArch, type TinyModelQuant } from "../tinyModel/makeTinyModel";
import type { TinyModelShape } from "../tinyModel/shape";
import { UsageError, type CliCommand } from "./types";

const usage = `Usage: lora-studio make-tiny-model --out FILE [options]

Writes a small random model of one of llama.cpp's architectures, used by the demo and the tests
(real tokenizer and chat template from node-llama-cpp's bundle). The same options always produce
the same file.

Options:
  --out FILE        output GGUF path (required)
  --arch NAME       ${TINY_MODEL_ARCHS.join(", ")}
                    (default llama; qwen35 is a hybrid model the trainer refuses)
  --experts N       a mixture-of-experts llama with N experts, 2 routed per token (Mixtral's layout;
                    the trainer refuses it)
  --seed N          weight seed (default 1234)
  --quant TYPE      f32 (default), f16, bf16, q4_0, or q4_k_m (quantized by the native engine)
  --layers N  --embd N  --heads N  --kv-heads N  --ffn N   override the default shape`;

function positiveInt(name: string, value: string | undefined): number | undefined {
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} must be a positive integer, got '${value}'`);
    return n;
}

export const makeTinyModelCommand: CliCommand = {
    summary: "write a tiny random model (llama, qwen2, qwen3, phi3, gemma, …) for the demo and the tests",
    usage,
    async run(args) {
        let values;
        try {
            ({ values } = parseArgs({
                args,
                options: {
                    out: { type: "string" },
                    arch: { type: "string" },
                    experts: { type: "string" },
                    seed: { type: "string" },
                    quant: { type: "string" },
                    layers: { type: "string" },
                    embd: { type: "string" },
                    heads: { type: "string" },
                    "kv-heads": { type: "string" },
                    ffn: { type: "string" }
                },
                strict: true
            }));
        } catch (err) {
            throw new UsageError((err as Error).message);
        }
        if (!values.out) throw new UsageError("--out FILE is required");
        const arch = values.arch ?? "llama";
        if (!(TINY_MODEL_ARCHS as readonly string[]).includes(arch)) {
            throw new UsageError(`--arch '${arch}' is not one of the architectures make-tiny-model writes: ${TINY_MODEL_ARCHS.join(", ")}`);
        }
        const nExperts = positiveInt("experts", values.experts);
        if (nExperts !== undefined && (arch !== "llama" || nExperts < 2)) throw new UsageError(`--experts needs --arch llama and at least 2 experts, got ${nExperts} with arch ${arch}`);
        const requested = values.quant ?? "f32";
        if (!["f32", "f16", "bf16", "q4_0", "q4_k_m"].includes(requested)) throw new UsageError(`--quant must be f32, f16, bf16, q4_0 or q4_k_m, got '${requested}'`);
        // Q4_K_M needs llama.cpp's k-quant search: write F32 first, then let the engine quantize it.
        const viaEngine = requested === "q4_k_m";
        const quant: TinyModelQuant = viaEngine ? "f32" : (requested as TinyModelQuant);
        const seed = values.seed === undefined ? undefined : Number(values.seed);
        if (seed !== undefined && !(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32)) throw new UsageError(`--seed must be an integer in [0, 2^32), got '${values.seed}'`);
        const shape: Partial<TinyModelShape> = {};
        const set = (key: keyof TinyModelShape, flag: string, v: string | undefined): void => {
            const n = positiveInt(flag, v);
            if (n !== undefined) shape[key] = n;
        };
        set("nLayer", "layers", values.layers);
        set("nEmbd", "embd", values.embd);
        set("nHead", "heads", values.heads);
        set("nHeadKv", "kv-heads", values["kv-heads"]);
        set("nFf", "ffn", values.ffn);
        const out = values.out;
        const f32Path = viaEngine ? join(dirname(out), `.${basename(out)}.f32.tmp`) : out;
        const info = makeTinyModel({
            out: f32Path, quant, shape, arch: arch as TinyModelArch,
            ...(seed === undefined ? {} : { seed }),
            ...(nExperts === undefined ? {} : { experts: { count: nExperts, used: 2 } })
        });
        if (viaEngine) {
            try {
                await (await loadEngine()).quantizeModel(f32Path, out, "q4_k_m");
            } finally {
                rmSync(f32Path, { force: true });
            }
        }
        const s = info.shape;
        const moe = nExperts === undefined ? "" : `, ${nExperts} experts`;
        process.stdout.write(`${out}: ${info.arch} ${s.nLayer} layers${moe}, n_embd ${s.nEmbd}, ${s.nHead} heads / ${s.nHeadKv} kv, ffn ${s.nFf}, vocab ${info.nVocab} (${info.vocab}, ${info.template}), ${(info.nParams / 1e6).toFixed(1)}M params, ${requested}, seed ${info.seed}\n`);
        return 0;
    }
};
