"""Independent check of LoRA Studio's Hugging Face module names per architecture (engine/architectures.ts).

For each architecture, each (GGUF tensor, HF module) pair and the HF layer path a PEFT export writes, this maps the
HF weight name the way llama.cpp's convert_hf_to_gguf.py does (ModelBase.filter_tensors drops "language_model.",
then gguf-py's TensorNameMap for that architecture) and checks that it lands on the same GGUF tensor, and that the
tensor is one llama.cpp's MODEL_TENSORS lists for the architecture (so Phi-3's qkv_proj is attn_qkv, and no other
family claims a fused tensor it does not have).

Input (stdin): JSON [{"arch": "phi3", "layerPath": "model.layers", "modules": {"attn_qkv": "self_attn.qkv_proj", ...}}].
Output (stdout): JSON {"checked": N, "problems": ["...", ...]}. Needs GGUF_PY (the path of gguf-py).
"""
import json
import os
import sys

sys.path.insert(0, os.environ["GGUF_PY"])
import gguf  # noqa: E402

ARCH_BY_NAME = {name: arch for arch, name in gguf.MODEL_ARCH_NAMES.items()}
N_BLOCKS = 2


def converter_name(hf_name):
    # convert_hf_to_gguf.py, ModelBase.filter_tensors: multimodal wrappers' text layers lose "language_model."
    return hf_name.replace("language_model.", "")


def main():
    specs = json.load(sys.stdin)
    problems = []
    checked = 0
    for spec in specs:
        arch_name = spec["arch"]
        arch = ARCH_BY_NAME.get(arch_name)
        if arch is None:
            problems.append(f"{arch_name}: gguf-py has no such architecture")
            continue
        name_map = gguf.TensorNameMap(arch, N_BLOCKS)
        allowed = {gguf.TENSOR_NAMES[t] for t in gguf.MODEL_TENSORS[arch]}
        for gguf_tensor, hf_module in spec["modules"].items():
            checked += 1
            hf_name = f"{spec['layerPath']}.1.{hf_module}.weight"
            got = name_map.get_name(converter_name(hf_name), try_suffixes=(".weight",))
            want = f"blk.1.{gguf_tensor}.weight"
            if got != want:
                problems.append(f"{arch_name}: {hf_name} converts to {got}, not {want}")
            if f"blk.{{bid}}.{gguf_tensor}" not in allowed:
                problems.append(f"{arch_name}: llama.cpp's MODEL_TENSORS has no {gguf_tensor} for this architecture")
    json.dump({"checked": checked, "problems": problems}, sys.stdout)


main()
