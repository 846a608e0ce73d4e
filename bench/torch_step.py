#!/usr/bin/env python3
"""PyTorch CPU reference for one LoRA training step: the figure bench/engine-step.ts compares our engine to.

Same model (a llama GGUF, frozen F32 base read with gguf-py), same micro-batch (tokens, positions,
seq ids, labels), LoRA rank r on all seven projections, AdamW, 2 threads. Reports the median step time,
tokens/s and the process's peak RSS as one JSON line.

Usage: torch_step.py REQUEST.json   with {model, batch: {tokens, positions, seqIds, labels}, rank, alpha,
        warmup, steps, threads}
"""
import json
import math
import os
import resource
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "oracle"))

import torch  # noqa: E402

import torch_reference as ref  # noqa: E402


def make_adapter(model, rank, alpha, seed):
    """A ~ U(±1/√n_in), B small random (not zero, so every matmul of the step does real work)."""
    g = torch.Generator().manual_seed(seed)
    ad = ref.Adapter.__new__(ref.Adapter)
    ad.alpha, ad.names, ad.params, ad.pairs = float(alpha), [], {}, {}
    for il in range(model.n_layer):
        for proj in ref.PROJECTIONS:
            name = f"blk.{il}.{proj}.weight"
            n_out, n_in = model.w[name].shape
            a = ((torch.rand(rank, n_in, generator=g) * 2 - 1) / math.sqrt(n_in)).requires_grad_(True)
            b = (torch.randn(n_out, rank, generator=g) * 1e-3).requires_grad_(True)
            for suffix, t in ((".lora_a", a), (".lora_b", b)):
                ad.names.append(name + suffix)
                ad.params[name + suffix] = t
            ad.pairs[name] = (a, b)
    return ad


def main():
    with open(sys.argv[1]) as f:
        req = json.load(f)
    torch.set_num_threads(int(req.get("threads", 2)))
    model = ref.Model(req["model"])
    for w in model.w.values():
        w.requires_grad_(False)  # the frozen base
    adapter = make_adapter(model, int(req["rank"]), float(req["alpha"]), 0)
    params = list(adapter.params.values())
    opt = torch.optim.AdamW(params, lr=1e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    batch = req["batch"]
    n_tokens = len(batch["tokens"])

    def step():
        opt.zero_grad(set_to_none=True)
        loss = ref.masked_loss(ref.forward(model, adapter, batch), batch["labels"])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        return float(loss)

    for _ in range(int(req.get("warmup", 2))):
        step()
    times = []
    for _ in range(int(req.get("steps", 5))):
        t0 = time.perf_counter()
        loss = step()
        times.append(time.perf_counter() - t0)
    median = statistics.median(times)
    print(json.dumps({
        "impl": f"pytorch {torch.__version__} cpu, {torch.get_num_threads()} threads",
        "tokens": n_tokens,
        "msPerStep": median * 1000,
        "tokensPerSec": n_tokens / median,
        "peakRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "loss": loss,
        "stepTimesMs": [t * 1000 for t in times],
    }))


if __name__ == "__main__":
    main()
