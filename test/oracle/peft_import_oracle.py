"""Independent oracle for the PEFT import (sidecar/src/importAdapter/): writes a PEFT LoRA folder the way Hugging Face
PEFT lays it out, from PyTorch random tensors, and checks a GGUF LoRA imported from it.

  write OUT_DIR BASE.gguf --dtype F32|F16|BF16 [--rank R] [--alpha A] [--rslora] [--patterns] [--seed S]
      adapter_model.safetensors (a hand-written safetensors file: 8-byte header length, JSON header, raw data) and
      adapter_config.json, with one lora_A [r, in] / lora_B [out, r] pair per adapted Linear of every decoder layer,
      named base_model.model.model.layers.N.<module>.lora_{A,B}.weight. Shapes come from the base GGUF (read with
      llama.cpp's gguf-py); the Hugging Face module names are this file's own table, not LoRA Studio's.
      --patterns adds a rank_pattern (layer 1 q_proj/qkv_proj at rank 4) and an alpha_pattern (layer 0 down_proj).
  check PEFT_DIR BASE.gguf IMPORTED.gguf
      For every pair: the PEFT delta scale·B·A (scale = alpha/r, or alpha/sqrt(r) with use_rslora, with PEFT's
      rank_pattern/alpha_pattern matching), computed in float64 with torch, with llama.cpp's q/k row permutation
      (convert_hf_to_gguf LlamaModel.permute, re-implemented from its definition) applied for llama-family bases,
      against the imported GGUF delta (adapter.lora.alpha / rank)·lora_b·lora_a. Prints JSON
      {"pairs", "maxDiffDelta", "maxAbsDelta", "maxDiffA", "permutedPairs", "arch", "alpha"}.
Needs GGUF_PY (the path of gguf-py).
"""
import json
import math
import os
import re
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.environ["GGUF_PY"])
from gguf import GGUFReader  # noqa: E402

# GGUF tensor -> Hugging Face module (transformers' LlamaForCausalLM and Phi3ForCausalLM module names).
SEPARATE = {
    "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
    "attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj",
}
PHI3 = {"attn_qkv": "self_attn.qkv_proj", "attn_output": "self_attn.o_proj", "ffn_up": "mlp.gate_up_proj", "ffn_down": "mlp.down_proj"}
# convert_hf_to_gguf.py permutes q/k rows for these (LlamaModel and its subclasses).
PERMUTED = {"llama", "smollm3", "mistral3"}


def field(reader, key):
    f = reader.fields.get(key)
    if f is None:
        return None
    v = f.parts[f.data[0]]
    return bytes(v).decode() if f.types[0].name == "STRING" else v.tolist()[0]


def hf_modules(arch):
    return PHI3 if arch == "phi3" else SEPARATE


def write_safetensors(path, tensors, dtype):
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, t in tensors:
        if dtype == "F32":
            raw = t.to(torch.float32).numpy().astype("<f4").tobytes()
        elif dtype == "F16":
            raw = t.to(torch.float16).numpy().astype("<f2").tobytes()
        else:  # BF16: torch rounds to nearest even; numpy has no bfloat16, so the bits go out as int16.
            raw = t.to(torch.bfloat16).view(torch.int16).numpy().astype("<i2").tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        raw = data[8 + n + b:8 + n + end]
        if e["dtype"] == "F32":
            a = np.frombuffer(raw, "<f4").astype(np.float64)
        elif e["dtype"] == "F16":
            a = np.frombuffer(raw, "<f2").astype(np.float64)
        else:
            a = (np.frombuffer(raw, "<u2").astype(np.uint32) << 16).view(np.float32).astype(np.float64)
        out[name] = torch.from_numpy(a.reshape(e["shape"]))
    return out


def write(out_dir, base_path, dtype, rank, alpha, rslora, patterns, seed):
    base = GGUFReader(base_path)
    arch = field(base, "general.architecture")
    modules = hf_modules(arch)
    gen = torch.Generator().manual_seed(seed)
    tensors, rank_pattern, alpha_pattern = [], {}, {}
    for t in base.tensors:
        m = re.match(r"^blk\.(\d+)\.([a-z_]+)\.weight$", t.name)
        if not m or m.group(2) not in modules:
            continue
        layer, module = int(m.group(1)), modules[m.group(2)]
        n_in, n_out = int(t.shape[0]), int(t.shape[1])  # gguf-py lists dims ne0 first: [in, out]
        name = f"model.layers.{layer}.{module}"
        r = rank
        if patterns and layer == 1 and module.endswith(("q_proj", "qkv_proj")):
            r = 4
            rank_pattern[name] = r
        if patterns and layer == 0 and module.endswith("down_proj"):
            alpha_pattern[name] = alpha / 2
        tensors.append((f"base_model.model.{name}.lora_A.weight", torch.randn(r, n_in, generator=gen) * 0.1))
        tensors.append((f"base_model.model.{name}.lora_B.weight", torch.randn(n_out, r, generator=gen) * 0.1))
    os.makedirs(out_dir, exist_ok=True)
    write_safetensors(os.path.join(out_dir, "adapter_model.safetensors"), tensors, dtype)
    targets = sorted({n.split(".")[-3] for n, _ in tensors})
    config = {
        "peft_type": "LORA", "task_type": "CAUSAL_LM", "base_model_name_or_path": f"example/tiny-{arch}",
        "r": rank, "lora_alpha": alpha, "lora_dropout": 0.0, "target_modules": targets, "bias": "none",
        "use_rslora": rslora, "use_dora": False, "fan_in_fan_out": False, "modules_to_save": None,
        "rank_pattern": rank_pattern, "alpha_pattern": alpha_pattern, "inference_mode": True,
    }
    with open(os.path.join(out_dir, "adapter_config.json"), "w") as f:
        json.dump(config, f, indent=2)
    print(json.dumps({"pairs": len(tensors) // 2, "arch": arch}))


def pattern_value(pattern, name, default):
    # peft.utils.other.get_pattern_key: the key equals the name, or matches its end after a dot.
    for key, value in pattern.items():
        if key == name or re.match(rf"(.*\.)?({key})$", name):
            return value
    return default


def permute(w, n_head):
    # convert_hf_to_gguf.py LlamaModel.permute
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def check(peft_dir, base_path, imported_path):
    config = json.load(open(os.path.join(peft_dir, "adapter_config.json")))
    hf = read_safetensors(os.path.join(peft_dir, "adapter_model.safetensors"))
    base = GGUFReader(base_path)
    arch = field(base, "general.architecture")
    n_head = field(base, f"{arch}.attention.head_count")
    n_head_kv = field(base, f"{arch}.attention.head_count_kv") or n_head
    lora = GGUFReader(imported_path)
    g_alpha = field(lora, "adapter.lora.alpha")
    g = {t.name: torch.from_numpy(np.array(t.data, dtype=np.float64)) for t in lora.tensors}  # numpy order: a [r, in], b [out, r]
    by_module = {v: k for k, v in hf_modules(arch).items()}
    seen, max_diff, max_abs, max_diff_a, permuted = set(), 0.0, 0.0, 0.0, 0
    for name in hf:
        m = re.match(r"^base_model\.model\.(model\.layers\.(\d+)\.(.+))\.lora_A\.weight$", name)
        if not m:
            continue
        module, layer, hf_module = m.group(1), m.group(2), m.group(3)
        a, b = hf[name], hf[name.replace("lora_A", "lora_B")]
        r = a.shape[0]
        alpha = pattern_value(config.get("alpha_pattern") or {}, module, config["lora_alpha"])
        scale = alpha / math.sqrt(r) if config.get("use_rslora") else alpha / r
        delta = scale * (b @ a)
        gguf_tensor = by_module[hf_module]
        if arch in PERMUTED and gguf_tensor in ("attn_q", "attn_k"):
            delta = permute(delta, n_head if gguf_tensor == "attn_q" else n_head_kv)
            permuted += 1
        w = f"blk.{layer}.{gguf_tensor}.weight"
        ga, gb = g[f"{w}.lora_a"], g[f"{w}.lora_b"]
        g_delta = (g_alpha / ga.shape[0]) * (gb @ ga)
        max_diff = max(max_diff, (delta - g_delta).abs().max().item())
        max_abs = max(max_abs, delta.abs().max().item())
        max_diff_a = max(max_diff_a, (a - ga).abs().max().item())
        seen.add(w)
    extra = {n.rsplit(".", 1)[0] for n in g} - seen
    if extra:
        print(f"peft_import_oracle: the imported adapter has pairs the PEFT folder lacks: {sorted(extra)}", file=sys.stderr)
        sys.exit(1)
    print(json.dumps({"pairs": len(seen), "maxDiffDelta": max_diff, "maxAbsDelta": max_abs, "maxDiffA": max_diff_a,
                      "permutedPairs": permuted, "arch": arch, "alpha": g_alpha}))


def main():
    args = sys.argv[1:]
    if args[0] == "write":
        opt = lambda flag, default: args[args.index(flag) + 1] if flag in args else default  # noqa: E731
        write(args[1], args[2], opt("--dtype", "F32"), int(opt("--rank", "8")), float(opt("--alpha", "16")),
              "--rslora" in args, "--patterns" in args, int(opt("--seed", "0")))
    elif args[0] == "check":
        check(args[1], args[2], args[3])
    else:
        sys.exit(f"unknown mode {args[0]}")


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()
