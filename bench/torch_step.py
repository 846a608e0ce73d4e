#!/usr/bin/env python3
"""PyTorch CPU reference for one LoRA training step: the figure bench/engine-vs-torch.ts compares our engine to.

Same model (a GGUF of any architecture test/oracle/torch_arch.py implements, frozen F32 base read from the file),
same micro-batch (tokens, positions, seq ids, labels), LoRA rank r on every projection the request names (default:
every 2-D weight of the model's blocks, which on these families is exactly what llama.cpp multiplies through
build_lora_mm: q/k/v/o and gate/up/down, or Phi-3's fused attn_qkv and ffn_up), AdamW without gradient clipping
(the engine's bench step sets gradClip 0), the same thread count.
Reports the median step time, tokens/s and peak RSS as one JSON line.

GELU is the plain tanh formula (gelu: "tanh", the default): what a PyTorch user runs and what our engine computes
(patch 0010). The fp16-table emulation the gradient oracle uses ("ggml") is slower and would flatter the engine.

Peak RSS is measured from after the weights are loaded (VmHWM reset through /proc/self/clear_refs): the reader
memory-maps the GGUF and copies every tensor, a transient that loading a checkpoint into PyTorch need not have.
The whole-process peak is reported too, as loadPeakRssBytes.

Usage: torch_step.py REQUEST.json   with {model, batch: {tokens, positions, seqIds, labels}, rank, alpha,
        warmup, steps, threads, targets?: [tensor names such as "attn_q", "attn_qkv"], gelu?: "tanh" | "ggml"}
"""
import gc
import json
import math
import os
import re
import resource
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "oracle"))

import torch  # noqa: E402

import torch_reference as ref  # noqa: E402

BLOCK_WEIGHT = re.compile(r"^blk\.(\d+)\.(.+)\.weight$")


def block_projections(model):
    """Names (without blk.N. and .weight) of the 2-D weights in the model's blocks, in first-seen order."""
    names = []
    for name, w in model.w.items():
        m = BLOCK_WEIGHT.match(name)
        if m and w.dim() == 2 and m.group(2) not in names:
            names.append(m.group(2))
    return names


def make_adapter(model, targets, rank, alpha, seed):
    """LoRA on blk.N.<target>.weight for every layer and target. A ~ U(±1/√n_in), B small random (not zero, so every
    matmul of the step does real work)."""
    g = torch.Generator().manual_seed(seed)
    ad = ref.Adapter.__new__(ref.Adapter)
    ad.alpha, ad.names, ad.params, ad.pairs = float(alpha), [], {}, {}
    for il in range(model.n_layer):
        for proj in targets:
            name = f"blk.{il}.{proj}.weight"
            if name not in model.w:
                ref.fail(f"{model.arch}: no tensor {name} for target '{proj}' (the model's block projections: {', '.join(block_projections(model))})")
            n_out, n_in = model.w[name].shape
            a = ((torch.rand(rank, n_in, generator=g) * 2 - 1) / math.sqrt(n_in)).requires_grad_(True)
            b = (torch.randn(n_out, rank, generator=g) * 1e-3).requires_grad_(True)
            for suffix, t in ((".lora_a", a), (".lora_b", b)):
                ad.names.append(name + suffix)
                ad.params[name + suffix] = t
            ad.pairs[name] = (a, b)
    return ad


def vm_hwm_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def reset_peak_rss():
    """Linux ≥ 4.0: writing 5 to clear_refs resets VmHWM to the current RSS. False where that is not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def main():
    with open(sys.argv[1]) as f:
        req = json.load(f)
    torch.set_num_threads(int(req.get("threads", 2)))
    gelu = req.get("gelu", "tanh")
    if gelu not in ("tanh", "ggml"):
        ref.fail(f"gelu must be 'tanh' or 'ggml', got {gelu!r}")
    model = ref.Model(req["model"])
    for w in model.w.values():
        w.requires_grad_(False)  # the frozen base
    targets = req.get("targets") or block_projections(model)
    adapter = make_adapter(model, targets, int(req["rank"]), float(req["alpha"]), 0)
    params = list(adapter.params.values())
    opt = torch.optim.AdamW(params, lr=1e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    batch = req["batch"]
    n_tokens = len(batch["tokens"])
    gc.collect()  # the reader's memory map goes with its last view
    load_peak = vm_hwm_bytes()
    peak_reset = reset_peak_rss()

    def step():
        opt.zero_grad(set_to_none=True)
        logits = ref.forward(model, adapter, batch, gelu_table=(gelu == "ggml"))
        loss = ref.masked_loss(logits, batch["labels"])
        loss.backward()
        opt.step()  # no gradient clipping: the engine's bench step runs with gradClip 0
        return float(loss)

    for _ in range(int(req.get("warmup", 2))):
        step()
    times, cpu_times = [], []
    for _ in range(int(req.get("steps", 5))):
        c0 = time.process_time()
        t0 = time.perf_counter()
        loss = step()
        times.append(time.perf_counter() - t0)
        cpu_times.append(time.process_time() - c0)
    median = statistics.median(times)
    print(json.dumps({
        "impl": f"pytorch {torch.__version__} cpu, {torch.get_num_threads()} threads",
        "arch": model.arch,
        "tokens": n_tokens,
        "msPerStep": median * 1000,
        "tokensPerSec": n_tokens / median,
        "peakRssBytes": vm_hwm_bytes(),
        "peakRssIncludesLoad": not peak_reset,
        "loadPeakRssBytes": max(load_peak, vm_hwm_bytes()),
        "loss": loss,
        "stepTimesMs": [t * 1000 for t in times],
        "stepCpuMs": [t * 1000 for t in cpu_times],
        "adapterWeights": sorted(adapter.pairs),
    }))


if __name__ == "__main__":
    main()
