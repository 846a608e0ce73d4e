#!/usr/bin/env python3
"""PyTorch reference for LoRA training on a GGUF of a trainable architecture (the oracle for our engine).

It re-implements, in float32 and on the CPU, exactly what llama.cpp's graph computes for the model's
architecture (llama, qwen2, qwen3, phi3, gemma, gemma2, gemma3, smollm3, mistral3, gemma4: see torch_arch.py for
what each one adds), so that autograd gives reference gradients for the LoRA tensors:
  * weights are read from the GGUF as stored (rows of attn_q/attn_k are already permuted by the
    converter for the "normal" RoPE archs, which rotate adjacent pairs (2i, 2i+1); NEOX archs rotate
    (i, i + n_rot/2)); quantized tensors are dequantized with gguf-py's numpy dequantizers;
  * RMSNorm, RoPE with ggml's float32 theta recurrence, causal attention restricted to each packed
    sequence (seq ids, positions) and, on sliding-window layers, to llama.cpp's window, grouped-query
    attention, SwiGLU or GeGLU FFN;
  * LoRA on any weight llama.cpp multiplies through build_lora_mm (the seven projections, Phi-3's fused
    attn_qkv and ffn_up, the output): y = W x + (alpha / rank) * B (A x);
  * masked mean cross-entropy over rows whose label is not -1;
  * AdamW as torch.optim.AdamW (decoupled weight decay) after clip_grad_norm_ over all adapter
    tensors, with the engine's warmup + cosine/linear/constant schedule (sidecar/src/engine/schedule.ts).

Shapes (row-major, as numpy/torch see them): T = tokens in the micro-batch, E = n_embd,
H = heads, Hkv = kv heads, D = head size, F = ffn size, V = vocab, r = LoRA rank.
  W (out, in); lora_a (r, in); lora_b (out, r); logits (T, V).

Input: a JSON request (see `main`). Output: a JSON result on stdout or --out.
Needs gguf-py on PYTHONPATH (node_modules/node-llama-cpp/llama/llama.cpp/gguf-py).
"""
import argparse
import json
import math
import os
import sys
import tempfile

import torch

import gguf  # the bundle's pure-Python gguf-py
from torch_arch import PROJECTIONS, Model, fail, field_value, forward, tensor_f32  # noqa: F401 (re-exported for bench/torch_step.py)

torch.set_num_threads(int(os.environ.get("ORACLE_THREADS", "2")))


class Adapter:
    """LoRA tensors keyed by the base weight name; A and B are trainable torch leaves."""

    def __init__(self, path):
        r = gguf.GGUFReader(path)
        if field_value(r, "general.type") != "adapter":
            fail(f"{path}: general.type is not 'adapter'")
        self.alpha = float(field_value(r, "adapter.lora.alpha", 0.0))
        self.names = []  # GGUF tensor names, in file order
        self.params = {}
        for t in r.tensors:
            self.names.append(t.name)
            self.params[t.name] = torch.from_numpy(tensor_f32(t).copy()).requires_grad_(True)
        self.pairs = {}
        for name in self.names:
            if name.endswith(".lora_a"):
                base = name[: -len(".lora_a")]
                b = base + ".lora_b"
                if b not in self.params:
                    fail(f"{path}: {name} has no matching {b}")
                self.pairs[base] = (self.params[name], self.params[b])

    def scale(self, base):
        a, _ = self.pairs[base]
        rank = a.shape[0]
        return self.alpha / rank if self.alpha else 1.0


def masked_loss(logits, labels):
    labels = torch.tensor(labels, dtype=torch.long)
    keep = labels != -1
    if int(keep.sum()) == 0:
        fail("the batch has no label other than -1")
    return torch.nn.functional.cross_entropy(logits[keep], labels[keep], reduction="mean")


def check_batch(batch, i):
    n = len(batch["tokens"])
    for key in ("positions", "seqIds", "labels"):
        if len(batch[key]) != n:
            fail(f"batch {i}: {key} has {len(batch[key])} entries, tokens has {n}")


def lr_at(opt, step):
    """Learning rate of optimizer step `step` (0-based): linear warmup to lr, then the schedule's decay to 0."""
    lr, warmup, total, schedule = opt["lr"], opt.get("warmupSteps", 0), opt.get("totalSteps", 1), opt.get("schedule", "constant")
    if warmup > 0 and step < warmup:
        return lr * (step + 1) / warmup
    if schedule == "constant":
        return lr
    span = max(1, total - warmup)
    progress = min(1.0, (step - warmup) / span)
    if schedule == "linear":
        return lr * (1.0 - progress)
    if schedule == "cosine":
        return lr * 0.5 * (1.0 + math.cos(math.pi * progress))
    fail(f"unknown schedule '{schedule}'")


def grads_of(adapter):
    return {n: adapter.params[n].grad.detach().clone() for n in adapter.names}


def compute(model, adapter, batches, **fwd):
    """Loss and gradients; several micro-batches are averaged as one accumulated step. `fwd`: forward's options."""
    for p in adapter.params.values():
        p.grad = None
    total = 0.0
    for b in batches:
        loss = masked_loss(forward(model, adapter, b, **fwd), b["labels"]) / len(batches)
        loss.backward()
        total += float(loss)
    return total, grads_of(adapter)


def train(model, adapter, batches, opt, steps, **fwd):
    """`steps` optimizer steps: w = w*(1 - lr*wd) - lr*mhat/(sqrt(vhat)+eps), torch.optim.AdamW's update."""
    accum = opt.get("gradAccum", 1)
    m = {n: torch.zeros_like(p) for n, p in adapter.params.items()}
    v = {n: torch.zeros_like(p) for n, p in adapter.params.items()}
    beta1, beta2, eps, wd, clip = opt["beta1"], opt["beta2"], opt["eps"], opt.get("weightDecay", 0.0), opt.get("gradClip", 0.0)
    curve = []
    cursor = 0
    for step in range(steps):
        group = [batches[(cursor + i) % len(batches)] for i in range(accum)]
        cursor += accum
        loss, g = compute(model, adapter, group, **fwd)
        norm = math.sqrt(sum(float((t.double() ** 2).sum()) for t in g.values()))
        if not math.isfinite(loss) or not math.isfinite(norm):
            fail(f"non-finite loss or gradient at step {step}")
        # torch.nn.utils.clip_grad_norm_: scale by max_norm / (norm + 1e-6) when that is below 1.
        factor = min(1.0, clip / (norm + 1e-6)) if clip > 0 else 1.0
        lr = lr_at(opt, step)
        t = step + 1
        beta1h, beta2h = 1.0 / (1.0 - beta1 ** t), 1.0 / (1.0 - beta2 ** t)
        with torch.no_grad():
            for n, p in adapter.params.items():
                gi = g[n] * factor
                m[n].mul_(beta1).add_(gi * (1.0 - beta1))
                v[n].mul_(beta2).add_(gi * gi * (1.0 - beta2))
                mh = m[n] * beta1h
                vh = torch.sqrt(v[n] * beta2h) + eps
                p.mul_(1.0 - lr * wd).sub_(lr * mh / vh)
        curve.append({"loss": loss, "gradNorm": norm, "lr": lr})
    return curve


def tensor_json(t):
    return {"shape": list(t.shape), "data": t.detach().reshape(-1).tolist()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("request", help="JSON: {model, adapter?, batches: [{tokens, positions, seqIds, labels}], "
                    "mode: 'logits'|'grads'|'train', optimizer?, steps?, causalOnly?, gelu?: 'ggml'|'tanh', "
                    "logitRows?: [row indexes returned per batch in mode 'logits']}")
    ap.add_argument("--out", help="write the JSON result here (atomically) instead of stdout")
    args = ap.parse_args()
    with open(args.request) as f:
        req = json.load(f)
    batches = req["batches"]
    if not batches:
        fail("request has no batches")
    for i, b in enumerate(batches):
        check_batch(b, i)
    model = Model(req["model"])
    adapter = Adapter(req["adapter"]) if req.get("adapter") else None
    mode = req.get("mode", "grads")
    gelu = req.get("gelu", "ggml")
    if gelu not in ("ggml", "tanh"):
        fail(f"gelu must be 'ggml' (the fp16 table llama.cpp's CPU backend uses) or 'tanh', got '{gelu}'")
    # causalOnly ignores sliding windows: the deliberately wrong mask of the negative tests.
    fwd = {"causal_only": bool(req.get("causalOnly", False)), "gelu_table": gelu == "ggml"}
    result = {"mode": mode}
    if mode == "logits":
        rows = req.get("logitRows")
        with torch.no_grad():
            out = []
            for i, b in enumerate(batches):
                logits = forward(model, adapter, b, **fwd)
                if rows is not None:
                    if any(not (0 <= r < logits.shape[0]) for r in rows):
                        fail(f"logitRows {rows} are not all rows of batch {i} ({logits.shape[0]} tokens)")
                    logits = logits[rows]
                out.append(logits.reshape(-1).tolist())
            result["logits"] = out
    elif mode == "grads":
        if adapter is None:
            fail("mode 'grads' needs an adapter")
        loss, g = compute(model, adapter, batches, **fwd)
        result["loss"] = loss
        result["grads"] = {n: tensor_json(t) for n, t in g.items()}
    elif mode == "train":
        if adapter is None:
            fail("mode 'train' needs an adapter")
        result["curve"] = train(model, adapter, batches, req["optimizer"], int(req.get("steps", 20)), **fwd)
    else:
        fail(f"unknown mode '{mode}'")
    text = json.dumps(result)
    if args.out:
        d = os.path.dirname(os.path.abspath(args.out))
        fd, tmp = tempfile.mkstemp(dir=d, prefix=".torch_reference.")
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, args.out)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
