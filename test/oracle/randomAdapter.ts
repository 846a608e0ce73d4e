// A random LoRA adapter for any tiny model, in llama.cpp's GGUF LoRA format (general.type = adapter,
// `<weight>.lora_a` [n_in, r] and `<weight>.lora_b` [r, n_out]), so the reference's LoRA placement can be checked
// against stock node-llama-cpp's before our engine has trained anything for that architecture.
import { GgmlType, encodeAs, kvString, readGguf, writeGguf, type GgufTensorToWrite } from "../../sidecar/src/gguf";
import { Sfc32, hashString } from "../../sidecar/src/tinyModel/prng";

/** Every weight llama.cpp multiplies through build_lora_mm in the dense architectures, fused Phi-3 ones included. */
const LORA_WEIGHT = /^(blk\.\d+\.(attn_q|attn_k|attn_v|attn_qkv|attn_output|ffn_gate|ffn_up|ffn_down)|output)\.weight$/;

export interface RandomAdapterOptions {
    rank?: number;
    alpha?: number;
    seed?: number;
    /** Spread of A and B: 0.02 moves a projection's output by ~10% at rank 8, alpha 16. */
    std?: number;
    /** Only the weights this accepts (by base name, e.g. `blk.0.attn_q.weight`); default: all of them. */
    include?: (weight: string) => boolean;
}

/** Writes the adapter; returns the base weight names it covers. */
export function writeRandomAdapter(modelPath: string, out: string, opts: RandomAdapterOptions = {}): string[] {
    const { rank = 8, alpha = 16, seed = 11, std = 0.02, include = () => true } = opts;
    const model = readGguf(modelPath, { skipArraysOver: 64 });
    const arch = kvString(model, "general.architecture");
    const targets = model.tensors.filter((t) => LORA_WEIGHT.test(t.name) && t.dims.length === 2 && include(t.name));
    const tensors: GgufTensorToWrite[] = [];
    for (const t of targets) {
        const [nIn, nOut] = t.dims as [number, number];
        for (const [suffix, dims] of [[".lora_a", [nIn, rank]], [".lora_b", [rank, nOut]]] as const) {
            const name = t.name + suffix;
            const values = new Sfc32(seed, hashString(name)).fillNormal(new Float32Array(dims[0] * dims[1]), std);
            tensors.push({ name, dims: [...dims], type: GgmlType.F32, data: () => encodeAs(GgmlType.F32, values) });
        }
    }
    if (tensors.length === 0) throw new Error(`${modelPath}: no weight a LoRA adapter applies to`);
    writeGguf(out, {
        kv: [
            ["general.architecture", { type: "string", value: arch }],
            ["general.type", { type: "string", value: "adapter" }],
            ["adapter.type", { type: "string", value: "lora" }],
            ["adapter.lora.alpha", { type: "f32", value: alpha }]
        ],
        tensors
    });
    return targets.map((t) => t.name);
}
