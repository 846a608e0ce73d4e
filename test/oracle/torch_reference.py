#!/usr/bin/env python3
"""PyTorch reference for LoRA training on a llama-architecture GGUF (the oracle for our engine).

It re-implements, in float32 and on the CPU, exactly what llama.cpp's `llama` graph computes, so that
autograd gives reference gradients for the LoRA tensors:
  * weights are read from the GGUF as stored (rows of attn_q/attn_k are already permuted by the
    converter, and llama.cpp applies "normal" RoPE, rotating adjacent pairs (2i, 2i+1)); quantized
    tensors are dequantized with gguf-py's numpy dequantizers;
  * RMSNorm, RoPE with ggml's float32 theta recurrence, causal attention restricted to each packed
    sequence (seq ids, positions), grouped-query attention, SwiGLU FFN;
  * LoRA on the seven projections: y = W x + (alpha / rank) * B (A x);
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

import numpy as np
import torch

import gguf  # the bundle's pure-Python gguf-py

torch.set_num_threads(int(os.environ.get("ORACLE_THREADS", "2")))

PROJECTIONS = ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"]


def fail(msg):
    sys.stderr.write(f"torch_reference: {msg}\n")
    sys.exit(2)


def field_value(reader, key, default=None):
    f = reader.fields.get(key)
    if f is None:
        return default
    return f.contents()


def tensor_f32(t):
    """A GGUF tensor as a float32 numpy array in row-major (ggml dims reversed) shape."""
    qtype = gguf.GGMLQuantizationType(t.tensor_type)
    shape = tuple(int(d) for d in reversed(t.shape.tolist()))
    if qtype == gguf.GGMLQuantizationType.F32:
        arr = np.asarray(t.data, dtype=np.float32)
    elif qtype == gguf.GGMLQuantizationType.F16:
        arr = np.asarray(t.data, dtype=np.float16).astype(np.float32)
    else:
        arr = gguf.quants.dequantize(np.asarray(t.data), qtype).astype(np.float32)
    return arr.reshape(shape)


class Model:
    def __init__(self, path):
        r = gguf.GGUFReader(path)
        arch = field_value(r, "general.architecture")
        if arch != "llama":
            fail(f"{path}: architecture '{arch}' is not llama")
        self.n_layer = int(field_value(r, "llama.block_count"))
        self.n_embd = int(field_value(r, "llama.embedding_length"))
        self.n_head = int(field_value(r, "llama.attention.head_count"))
        self.n_head_kv = int(field_value(r, "llama.attention.head_count_kv", self.n_head))
        self.eps = float(field_value(r, "llama.attention.layer_norm_rms_epsilon"))
        self.freq_base = float(field_value(r, "llama.rope.freq_base", 10000.0))
        self.head_dim = self.n_embd // self.n_head
        self.n_rot = int(field_value(r, "llama.rope.dimension_count", self.head_dim))
        self.w = {t.name: torch.from_numpy(tensor_f32(t).copy()) for t in r.tensors}
        if "output.weight" not in self.w:  # tied embeddings, as llama.cpp duplicates them
            self.w["output.weight"] = self.w["token_embd.weight"]


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


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rope_cache(positions, n_rot, freq_base):
    """cos/sin (T, n_rot/2) computed like ggml_rope_cache_init: theta_0 = p, theta_i = theta_{i-1} * base^(-2/n_rot) in float32."""
    theta_scale = np.float32(np.power(np.float32(freq_base), np.float32(-2.0) / np.float32(n_rot)))
    theta = positions.astype(np.float32)
    cols = []
    for _ in range(n_rot // 2):
        cols.append(theta.copy())
        theta = (theta * theta_scale).astype(np.float32)
    th = np.stack(cols, axis=1).astype(np.float64)
    return torch.from_numpy(np.cos(th).astype(np.float32)), torch.from_numpy(np.sin(th).astype(np.float32))


def rope_norm(x, cos, sin, n_rot):
    """Normal-mode RoPE: rotate adjacent pairs. x (T, heads, D)."""
    rot, rest = x[..., :n_rot], x[..., n_rot:]
    x0, x1 = rot[..., 0::2], rot[..., 1::2]
    c, s = cos[:, None, :], sin[:, None, :]
    out = torch.stack((x0 * c - x1 * s, x0 * s + x1 * c), dim=-1).flatten(-2)
    return torch.cat((out, rest), dim=-1)


def forward(model, adapter, batch):
    """Logits (T, V) for one packed micro-batch."""
    tokens = torch.tensor(batch["tokens"], dtype=torch.long)
    positions = np.asarray(batch["positions"], dtype=np.int64)
    seq = torch.tensor(batch["seqIds"], dtype=torch.long)
    pos_t = torch.from_numpy(positions)
    T = tokens.shape[0]
    H, Hkv, D = model.n_head, model.n_head_kv, model.head_dim
    cos, sin = rope_cache(positions, model.n_rot, model.freq_base)
    # A key j is visible to query i when both belong to the same sequence and j is not in i's future.
    visible = (seq[:, None] == seq[None, :]) & (pos_t[None, :] <= pos_t[:, None])
    mask = torch.zeros(T, T).masked_fill(~visible, float("-inf"))
    kq_scale = 1.0 / math.sqrt(D)

    def lin(x, name):
        y = x @ model.w[name + ".weight"].T
        if adapter is not None and (name + ".weight") in adapter.pairs:
            a, b = adapter.pairs[name + ".weight"]
            y = y + ((x @ a.T) @ b.T) * adapter.scale(name + ".weight")
        return y

    x = model.w["token_embd.weight"][tokens]
    for il in range(model.n_layer):
        p = f"blk.{il}."
        h = rms_norm(x, model.w[p + "attn_norm.weight"], model.eps)
        q = rope_norm(lin(h, p + "attn_q").view(T, H, D), cos, sin, model.n_rot)
        k = rope_norm(lin(h, p + "attn_k").view(T, Hkv, D), cos, sin, model.n_rot)
        v = lin(h, p + "attn_v").view(T, Hkv, D)
        group = H // Hkv
        k = k.repeat_interleave(group, dim=1)  # query head h reads kv head h // group, as ggml broadcasts
        v = v.repeat_interleave(group, dim=1)
        scores = torch.einsum("ihd,jhd->hij", q, k) * kq_scale + mask
        att = torch.softmax(scores, dim=-1)
        o = torch.einsum("hij,jhd->ihd", att, v).reshape(T, H * D)
        x = x + lin(o, p + "attn_output")
        h = rms_norm(x, model.w[p + "ffn_norm.weight"], model.eps)
        f = torch.nn.functional.silu(lin(h, p + "ffn_gate")) * lin(h, p + "ffn_up")
        x = x + lin(f, p + "ffn_down")
    x = rms_norm(x, model.w["output_norm.weight"], model.eps)
    return x @ model.w["output.weight"].T


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


def compute(model, adapter, batches):
    """Loss and gradients; several micro-batches are averaged as one accumulated step."""
    for p in adapter.params.values():
        p.grad = None
    total = 0.0
    for b in batches:
        loss = masked_loss(forward(model, adapter, b), b["labels"]) / len(batches)
        loss.backward()
        total += float(loss)
    return total, grads_of(adapter)


def train(model, adapter, batches, opt, steps):
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
        loss, g = compute(model, adapter, group)
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
                    "mode: 'logits'|'grads'|'train', optimizer?, steps?}")
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
    result = {"mode": mode}
    if mode == "logits":
        with torch.no_grad():
            result["logits"] = [forward(model, adapter, b).reshape(-1).tolist() for b in batches]
    elif mode == "grads":
        if adapter is None:
            fail("mode 'grads' needs an adapter")
        loss, g = compute(model, adapter, batches)
        result["loss"] = loss
        result["grads"] = {n: tensor_json(t) for n, t in g.items()}
    elif mode == "train":
        if adapter is None:
            fail("mode 'train' needs an adapter")
        result["curve"] = train(model, adapter, batches, req["optimizer"], int(req.get("steps", 20)))
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
