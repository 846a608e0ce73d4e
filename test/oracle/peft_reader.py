"""Independent check of a PEFT export against the GGUF adapter it came from.

Reads adapter_model.safetensors with a hand-written parser (8-byte header length, JSON header, raw
little-endian data) and the GGUF adapter and base with llama.cpp's own gguf-py (GGUFReader), then checks:
  - adapter_config.json: peft_type, task_type, r, lora_alpha, target_modules;
  - every HF tensor name, shape [r, in] / [out, r] and dtype, one pair per GGUF pair, nothing else;
  - one dtype for all tensors: F32, F16 (numpy float16) or BF16 (decoded here from the raw uint16 bits: the
    top half of an F32);
  - A equals the GGUF lora_a rounded to that dtype (numpy's own float16 rounding; for BF16 round-to-nearest-even
    of the F32 bits); B the same for lora_b, except q/k of llama-family models, whose rows must be the HF order:
    re-applying llama.cpp's conversion permutation (convert_hf_to_gguf LlamaModel.permute, re-implemented here
    from its definition) to the exported B must give back the rounded GGUF B exactly;
  - every value is within the dtype's unit roundoff of the GGUF value (relative error, with values below the
    smallest normal number measured against it): maxRelErrA/maxRelErrB;
  - with torch (when importable): the HF-order delta (alpha/r)·B·A, permuted the way the converter permutes a
    q_proj/k_proj weight, equals the GGUF delta.
Usage: peft_reader.py PEFT_DIR ADAPTER.gguf BASE.gguf  (GGUF_PY=path of gguf-py). Prints a JSON summary.
"""
import json
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.environ["GGUF_PY"])
from gguf import GGUFReader  # noqa: E402

HF = {
    "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
    "attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj",
}
# Unit roundoff (half an ulp at 1) and smallest normal number of each dtype.
ROUNDOFF = {"F32": 2.0 ** -24, "F16": 2.0 ** -11, "BF16": 2.0 ** -8}
SMALLEST_NORMAL = {"F32": 2.0 ** -126, "F16": 2.0 ** -14, "BF16": 2.0 ** -126}


def fail(msg):
    print(f"peft_reader: {msg}", file=sys.stderr)
    sys.exit(1)


def decode(dtype, raw, name):
    """Little-endian bytes of `dtype` -> float32 values."""
    if dtype == "F32":
        return np.frombuffer(raw, dtype="<f4").astype(np.float32)
    if dtype == "F16":
        return np.frombuffer(raw, dtype="<f2").astype(np.float32)
    if dtype == "BF16":
        # numpy has no bfloat16: a BF16 value is the high 16 bits of the F32 with the same sign and exponent.
        return (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
    fail(f"{name}: dtype {dtype} is not F32, F16 or BF16")


def round_to(dtype, x):
    """float32 `x` rounded to `dtype` (to nearest, ties to even), as float32."""
    if dtype == "F32":
        return x
    if dtype == "F16":
        return x.astype(np.float16).astype(np.float32)
    bits = x.astype(np.float32).view(np.uint32).astype(np.uint64)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) << 16
    return rounded.astype(np.uint32).view(np.float32)


def rel_err(dtype, got, want):
    return float((np.abs(got - want) / np.maximum(np.abs(want), SMALLEST_NORMAL[dtype])).max())


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    if (8 + n) % 8 != 0:
        fail(f"header of {n} bytes leaves the data unaligned")
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    out = {}
    end_max = 0
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        arr = decode(info["dtype"], data[begin:end], name)
        if arr.size != int(np.prod(info["shape"])):
            fail(f"{name}: {arr.size} values for shape {info['shape']}")
        out[name] = (info["dtype"], arr.reshape(info["shape"]))
        end_max = max(end_max, end)
    if end_max != len(data):
        fail(f"data section is {len(data)} bytes but tensors end at {end_max}")
    return header.get("__metadata__", {}), out


def field(reader, key):
    f = reader.fields.get(key)
    if f is None:
        return None
    return f.contents() if hasattr(f, "contents") else f.parts[f.data[0]][0]


def gguf_matrix(t):
    # GGUF dims are ne0 first; numpy order reverses them.
    return np.array(t.data, dtype=np.float32).reshape([int(d) for d in reversed(t.shape)])


def permute(w, n_head, n_head_kv):
    """convert_hf_to_gguf.py LlamaModel.permute: HF row order -> GGUF row order."""
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def main():
    peft_dir, adapter_path, base_path = sys.argv[1:4]
    config = json.load(open(os.path.join(peft_dir, "adapter_config.json")))
    metadata, tensors = read_safetensors(os.path.join(peft_dir, "adapter_model.safetensors"))
    adapter = GGUFReader(adapter_path)
    base = GGUFReader(base_path)
    arch = field(adapter, "general.architecture")
    alpha = float(field(adapter, "adapter.lora.alpha"))
    n_head = int(field(base, f"{arch}.attention.head_count"))
    n_head_kv = int(field(base, f"{arch}.attention.head_count_kv") or n_head)
    permuted_arch = arch in ("llama", "granite", "granitemoe", "deci", "minicpm", "llada")

    if config["peft_type"] != "LORA" or config["task_type"] != "CAUSAL_LM":
        fail(f"peft_type/task_type are {config['peft_type']}/{config['task_type']}")
    if abs(config["lora_alpha"] - alpha) > 1e-6:
        fail(f"lora_alpha {config['lora_alpha']} != adapter.lora.alpha {alpha}")
    if metadata.get("format") != "pt":
        fail(f"__metadata__.format is {metadata.get('format')}")

    by_name = {t.name: t for t in adapter.tensors}
    seen = set()
    targets = set()
    max_a = max_b = max_delta = rel_a = rel_b = 0.0
    dtypes = {d for d, _ in tensors.values()}
    if len(dtypes) != 1:
        fail(f"tensors mix dtypes {sorted(dtypes)}")
    (dtype,) = dtypes
    unpermuted = 0
    for name, t in by_name.items():
        if not name.endswith(".lora_a"):
            continue
        weight = name[: -len(".lora_a")]
        _, layer, module, _ = weight.split(".")
        exact_a = gguf_matrix(t)
        exact_b = gguf_matrix(by_name[weight + ".lora_b"])
        # What the export must hold: the GGUF values rounded to its dtype.
        a = round_to(dtype, exact_a)
        b = round_to(dtype, exact_b)
        r = a.shape[0]
        prefix = f"base_model.model.model.layers.{layer}.{HF[module]}"
        targets.add(HF[module].split(".")[1])
        for suffix, shape in ((".lora_A.weight", a.shape), (".lora_B.weight", b.shape)):
            if prefix + suffix not in tensors:
                fail(f"missing {prefix + suffix}")
            if list(tensors[prefix + suffix][1].shape) != list(shape):
                fail(f"{prefix + suffix}: shape {list(tensors[prefix + suffix][1].shape)} != {list(shape)}")
            seen.add(prefix + suffix)
        pa = tensors[prefix + ".lora_A.weight"][1]
        pb = tensors[prefix + ".lora_B.weight"][1]
        if r != config["r"] and config.get("rank_pattern", {}).get(f"model.layers.{layer}.{HF[module]}") != r:
            fail(f"{prefix}: rank {r} is neither r nor in rank_pattern")
        max_a = max(max_a, float(np.abs(pa - a).max()))
        rel_a = max(rel_a, rel_err(dtype, pa, exact_a))
        if permuted_arch and module in ("attn_q", "attn_k"):
            kv = n_head if module == "attn_q" else n_head_kv
            max_b = max(max_b, float(np.abs(permute(pb, n_head, kv) - b).max()))
            rel_b = max(rel_b, rel_err(dtype, permute(pb, n_head, kv), exact_b))
            if np.abs(b).max() > 0 and np.array_equal(pb, b):
                fail(f"{prefix}: B was not un-permuted (identical to the GGUF rows)")
            unpermuted += 1
            try:
                import torch
            except ImportError:
                torch = None
            if torch is not None:
                scale = alpha / r
                hf_delta = scale * (torch.from_numpy(pb.copy()) @ torch.from_numpy(pa.copy()))
                gguf_delta = scale * (torch.from_numpy(b.copy()) @ torch.from_numpy(a.copy()))
                moved = torch.from_numpy(permute(hf_delta.numpy(), n_head, kv))
                max_delta = max(max_delta, float((moved - gguf_delta).abs().max()))
            else:
                max_delta = -1.0
        else:
            max_b = max(max_b, float(np.abs(pb - b).max()))
            rel_b = max(rel_b, rel_err(dtype, pb, exact_b))
    extra = set(tensors) - seen
    if extra:
        fail(f"unexpected tensors: {sorted(extra)[:5]}")
    if sorted(config["target_modules"]) != sorted(targets):
        fail(f"target_modules {config['target_modules']} != {sorted(targets)}")
    print(json.dumps({"tensors": len(tensors), "maxDiffA": max_a, "maxDiffB": max_b, "maxDiffDelta": max_delta,
                      "unpermutedPairs": unpermuted, "arch": arch, "r": config["r"], "dtype": dtype,
                      "maxRelErrA": rel_a, "maxRelErrB": rel_b, "roundoff": ROUNDOFF[dtype]}))


if __name__ == "__main__":
    main()
