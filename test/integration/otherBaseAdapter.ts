// A well-formed GGUF LoRA adapter for another base than the tiny fixtures: the mismatched adapter that chat and eval
// (over the sidecar) must refuse naming both files.
import { GgmlType, writeGguf } from "../../sidecar/src/gguf";

/** A LoRA adapter for a llama model with 128-wide layers: the right format, the wrong base. */
export function writeOtherBaseAdapter(path: string): void {
    const rank = 4;
    const width = 128;
    const zeros = (n: number) => new Uint8Array(n * 4);
    writeGguf(path, {
        kv: [
            ["general.architecture", { type: "string", value: "llama" }],
            ["general.type", { type: "string", value: "adapter" }],
            ["adapter.type", { type: "string", value: "lora" }],
            ["adapter.lora.alpha", { type: "f32", value: 8 }]
        ],
        tensors: [
            { name: "blk.0.attn_q.weight.lora_a", dims: [width, rank], type: GgmlType.F32, data: zeros(width * rank) },
            { name: "blk.0.attn_q.weight.lora_b", dims: [rank, width], type: GgmlType.F32, data: zeros(width * rank) }
        ]
    });
}
