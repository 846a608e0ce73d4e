"""The architectures of the PyTorch reference: what llama.cpp v0.5.0 computes for each, in float32 on the CPU.

One forward pass serves all of them; an `Arch` holds what differs, read from the GGUF header exactly as llama.cpp's
loader reads it (src/llama-model.cpp load_hparams, src/models/<arch>.cpp load_arch_hparams):

  arch      RoPE   q/k/v            FFN                 extras
  llama     NORM   separate         SwiGLU              -
  qwen2     NEOX   separate + bias  SwiGLU              -
  qwen3     NEOX   separate         SwiGLU              QK-norm
  phi3      NEOX   fused attn_qkv   SwiGLU, fused       q scaled by 1/sqrt(D) before QK^T (softmax scale 1)
                                    gate|up in ffn_up
  gemma     NEOX   separate         GeGLU (tanh GELU)   x *= sqrtf(E); q scaled before QK^T; output tied
  gemma2    NEOX   separate         GeGLU               + post-norms, attention soft-cap (tanh, before the mask),
                                                        final soft-cap, sliding window on is_swa layers
  gemma3    NEOX   separate         GeGLU               + post-norms, QK-norm, sliding window, rope.freq_base_swa
                                                        on sliding layers, final soft-cap only if the key is set
  smollm3   NORM   separate         SwiGLU              no RoPE on layers with (il + 1) % 4 == 0
  mistral3  NORM   separate         SwiGLU              q *= 1 + temperature_scale * ln(1 + floor(pos / n_ctx_orig))
  gemma4    NEOX   separate; V = K  GeGLU, per-layer    (dense only) post-norms, QK-norm with weights, V RMS-normed
                   where attn_v is  width (double-wide  without weight, attention scale 1, per-layer head size / kv
                   missing          on shared layers)   heads, sliding window, freq_base_swa and rope.dimension_count_swa
                                                        on sliding layers, rope_freqs factors on global layers, shared-KV
                                                        layers (il >= n_layer - shared_kv_layers) attend over the K/V of
                                                        layer n_layer_kv_from_start - (is_swa ? 2 : 1), per-layer inputs
                                                        and gating after each layer, layer_output_scale, final soft-cap

Sliding windows follow llama_hparams::is_masked_swa (LLAMA_SWA_TYPE_STANDARD): key p_k is hidden from query p_q when
p_q - p_k >= n_swa, on exactly the layers llama_hparams::is_swa marks (set_swa_pattern, or the per-layer array).

GELU: stock ggml-cpu defines GGML_GELU_FP16 unconditionally (ggml/src/ggml-cpu/vec.h), so node-llama-cpp's prebuilt
computes, for -10 < x < 10, gelu(x) = fp16(gelu_tanh(fp16(x))): a 64k-entry table of the tanh-approximated GELU evaluated
on fp16 inputs and stored as fp16; x <= -10 gives 0 and x >= 10 gives x. `gelu_ggml` reproduces it (round to nearest
even both ways, as F16C's conversion does; measured: 4x closer to stock llama.cpp than the formula on the tiny Gemmas).
Our engine's ggml (patch 0010) and ggml-cuda compute the tanh formula in f32 instead: compare with them using
`table=False` (request `gelu: "tanh"`). Autograd differentiates the tanh formula either way (with the table, at the
rounded input: the roundings pass gradients through unchanged).

Shapes (row-major, as torch sees them): T tokens, E = n_embd, H heads, Hkv kv heads, D head size, F ffn size, V vocab.
"""
import math
import struct
import sys

import numpy as np
import torch

import gguf  # the bundle's pure-Python gguf-py

PROJECTIONS = ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"]
ARCHS = ("llama", "qwen2", "qwen3", "phi3", "gemma", "gemma2", "gemma3", "smollm3", "mistral3", "gemma4")
NEOX = {"qwen2", "qwen3", "phi3", "gemma", "gemma2", "gemma3", "gemma4"}  # llama_model_rope_type; the others are NORM

GELU_COEF_A = np.float32(0.044715)
SQRT_2_OVER_PI = np.float32(0.79788456080286535587989211986876)


def fail(msg):
    sys.stderr.write(f"torch_reference: {msg}\n")
    sys.exit(2)


def field_value(reader, key, default=None):
    f = reader.fields.get(key)
    if f is None:
        return default
    return f.contents()


def tensor_f32(t):
    """A GGUF tensor (gguf-py's ReaderTensor) as a float32 numpy array in row-major (ggml dims reversed) shape."""
    qtype = gguf.GGMLQuantizationType(t.tensor_type)
    shape = tuple(int(d) for d in reversed(t.shape.tolist()))
    if qtype == gguf.GGMLQuantizationType.F32:
        arr = np.asarray(t.data, dtype=np.float32)
    elif qtype == gguf.GGMLQuantizationType.F16:
        arr = np.asarray(t.data, dtype=np.float16).astype(np.float32)
    else:
        arr = gguf.quants.dequantize(np.asarray(t.data), qtype).astype(np.float32)
    return arr.reshape(shape)


# GGUF value types (gguf.h) → struct format; 8 = string, 9 = array.
_SCALAR = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_NUMPY = {0: np.uint8, 1: np.int8, 2: np.uint16, 3: np.int16, 4: np.uint32, 5: np.int32, 6: np.float32, 7: np.bool_, 10: np.uint64, 11: np.int64, 12: np.float64}


class FastGguf:
    """A model GGUF's scalar and numeric-array keys and its tensors, without decoding the tokenizer.

    gguf-py's GGUFReader turns every string of the tokenizer into a numpy field: 45 s for Gemma's 262k tokens and 515k
    merges, where this reader skips string arrays (the reference needs none) and maps tensor data lazily.
    """

    def __init__(self, path):
        self.path = path
        self.raw = np.memmap(path, dtype=np.uint8, mode="r")
        buf = memoryview(self.raw)
        magic, version, n_tensors, n_kv = struct.unpack_from("<IIQQ", buf, 0)
        if magic != 0x46554747 or version not in (2, 3):
            fail(f"{path}: not a GGUF v2/v3 file")
        pos = 24
        self.kv = {}

        def string(pos):
            (n,) = struct.unpack_from("<Q", buf, pos)
            return bytes(buf[pos + 8: pos + 8 + n]).decode("utf-8"), pos + 8 + n

        for _ in range(n_kv):
            key, pos = string(pos)
            (vtype,) = struct.unpack_from("<I", buf, pos)
            pos += 4
            if vtype == 8:
                self.kv[key], pos = string(pos)
            elif vtype == 9:
                itype, n = struct.unpack_from("<IQ", buf, pos)
                pos += 12
                if itype == 8:  # skipped: tokenizer strings
                    for _ in range(n):
                        (m,) = struct.unpack_from("<Q", buf, pos)
                        pos += 8 + m
                elif itype in _NUMPY:
                    arr = np.frombuffer(buf, dtype=_NUMPY[itype], count=n, offset=pos)
                    self.kv[key] = arr.tolist()
                    pos += arr.nbytes
                else:
                    fail(f"{path}: key {key}: array of type {itype} not supported")
            elif vtype in _SCALAR:
                (self.kv[key],) = struct.unpack_from(_SCALAR[vtype], buf, pos)
                pos += struct.calcsize(_SCALAR[vtype])
            else:
                fail(f"{path}: key {key}: unknown GGUF type {vtype}")
        self.infos = []
        for _ in range(n_tensors):
            name, pos = string(pos)
            (n_dims,) = struct.unpack_from("<I", buf, pos)
            dims = list(struct.unpack_from(f"<{n_dims}Q", buf, pos + 4))
            ttype, offset = struct.unpack_from("<IQ", buf, pos + 4 + 8 * n_dims)
            pos += 4 + 8 * n_dims + 12
            self.infos.append((name, dims, ttype, offset))
        align = int(self.kv.get("general.alignment", 32))
        self.data_start = (pos + align - 1) // align * align

    def tensor_bytes(self, name, dims, ttype, offset):
        """The tensor's stored bytes, one row (ne0 values) per line."""
        block, type_size = gguf.GGML_QUANT_SIZES[gguf.GGMLQuantizationType(ttype)]
        nbytes = int(np.prod(dims)) // block * type_size
        return self.raw[self.data_start + offset: self.data_start + offset + nbytes].reshape(-1, dims[0] // block * type_size)

    def tensor(self, name, dims, ttype, offset):
        """float32 numpy array in row-major (ggml dims reversed) shape; quantized types via gguf-py's dequantizers."""
        qtype = gguf.GGMLQuantizationType(ttype)
        data = self.tensor_bytes(name, dims, ttype, offset).reshape(-1)
        shape = tuple(int(d) for d in reversed(dims))
        if qtype == gguf.GGMLQuantizationType.F32:
            return np.frombuffer(data, dtype=np.float32).reshape(shape)
        if qtype == gguf.GGMLQuantizationType.F16:
            return np.frombuffer(data, dtype=np.float16).astype(np.float32).reshape(shape)
        rows = self.tensor_bytes(name, dims, ttype, offset)
        return gguf.quants.dequantize(np.asarray(rows), qtype).astype(np.float32).reshape(shape)


def f32(x):
    """A float32 scalar tensor, so that scaling multiplies by exactly the float32 constant ggml_scale uses."""
    return torch.tensor(np.float32(x), dtype=torch.float32)


class Model:
    """Hyper-parameters and weights of a GGUF, as llama.cpp's loader reads them."""

    def __init__(self, path):
        r = FastGguf(path)
        arch = r.kv.get("general.architecture")
        if arch not in ARCHS:
            fail(f"{path}: general.architecture '{arch}' is not one the reference implements ({', '.join(ARCHS)})")
        self.arch = arch

        def key(name, default=None):
            return r.kv.get(f"{arch}.{name}", default)

        if int(key("expert_count", 0) or 0) > 0:
            fail(f"{path}: {arch}.expert_count is set; the reference implements dense models only")
        self.n_layer = int(key("block_count"))
        self.n_embd = int(key("embedding_length"))
        n_ff = key("feed_forward_length")  # gemma4: per layer (the reference reads each FFN's width from its weights)
        self.n_ff = int(n_ff[0] if isinstance(n_ff, list) else n_ff)
        self.n_head = int(key("attention.head_count"))
        n_head_kv = key("attention.head_count_kv", self.n_head)
        self.n_head_kv = int(n_head_kv[0] if isinstance(n_head_kv, list) else n_head_kv)
        self.eps = float(key("attention.layer_norm_rms_epsilon"))
        self.head_dim = int(key("attention.key_length", self.n_embd // self.n_head))
        if int(key("attention.value_length", self.head_dim)) != self.head_dim:
            fail(f"{path}: {arch}.attention.value_length differs from key_length; not implemented")
        self.n_rot = int(key("rope.dimension_count", self.head_dim))
        self.neox = arch in NEOX
        self.freq_base = float(key("rope.freq_base", 10000.0))
        self.freq_scale = self._freq_scale(path, key)
        n_ctx_train = int(key("context_length"))
        self.n_ctx_orig = int(key("rope.scaling.original_context_length", n_ctx_train))

        # Sliding windows (gemma2: always, default window 4096 and pattern 2; gemma3: when sliding_window > 0, pattern 6).
        self.n_swa = 0
        self.is_swa = [False] * self.n_layer
        self.freq_base_swa = self.freq_base
        if arch == "gemma4":  # load_arch_hparams: the pattern array and the window are required
            self.n_swa = int(key("attention.sliding_window"))
            self.is_swa = self._swa_pattern(key, 0)
            self.freq_base_swa = float(key("rope.freq_base_swa", 10000.0))
        elif arch == "gemma2" or (arch == "gemma3" and int(key("attention.sliding_window", 0)) > 0):
            self.n_swa = int(key("attention.sliding_window", 4096))
            self.is_swa = self._swa_pattern(key, 2 if arch == "gemma2" else 6)
            # gemma2 starts from the global base, gemma3 from llama_hparams' default 10000; the key overrides both.
            self.freq_base_swa = float(key("rope.freq_base_swa", self.freq_base if arch == "gemma2" else 10000.0))
        self.swa_freq_scale = 1.0  # rope_freq_scale_train_swa: no key sets it

        # Scales and caps (load_arch_hparams and the graphs).
        self.embd_scale = np.float32(math.sqrt(np.float32(self.n_embd))) if arch.startswith("gemma") else None
        self.q_scale = None  # multiplies Q after RoPE, before QK^T (then the softmax scale is 1)
        self.kq_scale = np.float32(1.0) / np.float32(math.sqrt(np.float32(self.head_dim)))
        if arch in ("phi3", "gemma"):
            self.q_scale, self.kq_scale = self.kq_scale, np.float32(1.0)
        elif arch in ("gemma2", "gemma3"):
            is_27b = self.n_layer == (46 if arch == "gemma2" else 62)  # LLM_TYPE_27B scales by n_embd / n_head instead
            d = self.n_embd // self.n_head if is_27b else self.head_dim
            self.q_scale, self.kq_scale = np.float32(1.0) / np.float32(math.sqrt(np.float32(d))), np.float32(1.0)
        self.attn_softcap = float(key("attn_logit_softcapping", 50.0)) if arch == "gemma2" else None
        self.final_softcap = None
        if arch == "gemma2":
            self.final_softcap = float(key("final_logit_softcapping", 30.0))
        elif arch == "gemma3" and float(key("final_logit_softcapping", 0.0)) != 0.0:
            self.final_softcap = float(key("final_logit_softcapping"))
        # Gemma 4 (load_arch_hparams): f_attention_scale 1, sliding layers with their own head size and rotation width,
        # the last shared_kv_layers layers reading an earlier layer's K/V (llama-model.cpp's reuse callback).
        self.n_rot_swa = self.n_rot
        self.kv_source = list(range(self.n_layer))
        if arch == "gemma4":
            self.q_scale, self.kq_scale = None, np.float32(1.0)
            self.n_rot_swa = int(key("rope.dimension_count_swa", key("attention.key_length_swa")))
            self.final_softcap = float(key("final_logit_softcapping", 0.0)) or None
            kv_from_start = self.n_layer - int(key("attention.shared_kv_layers", 0))
            self.kv_source = [il if il < kv_from_start else kv_from_start - (2 if self.is_swa[il] else 1) for il in range(self.n_layer)]
        self.no_rope = [arch == "smollm3" and (il + 1) % 4 == 0 for il in range(self.n_layer)]
        self.temp_scale = float(key("attention.temperature_scale", 0.0)) if arch == "mistral3" else 0.0

        self.w = {info[0]: torch.from_numpy(r.tensor(*info).copy()) for info in r.infos}
        for name in self.w:
            if name.startswith(("rope_freqs", "rope_factors")) and not (arch == "gemma4" and name == "rope_freqs.weight"):
                fail(f"{path}: {name}: RoPE frequency factors (Llama 3.1, LongRoPE) are not implemented")
        self.tied = "output.weight" not in self.w
        if self.tied:  # llama.cpp duplicates token_embd as the output
            self.w["output.weight"] = self.w["token_embd.weight"]

    def _freq_scale(self, path, key):
        kind = key("rope.scaling.type", "linear")
        factor = float(key("rope.scaling.factor", key("rope.scale_linear", 0.0)) or 0.0)
        if kind == "none":
            return 1.0
        if kind != "linear":
            fail(f"{path}: {self.arch}.rope.scaling.type '{kind}' is not implemented (linear or none)")
        return 1.0 if factor == 0.0 else 1.0 / factor

    def _swa_pattern(self, key, n_pattern):
        """llama_model_base::load_swa_pattern: a per-layer array, else set_swa_pattern(n, dense_first=false)."""
        value = key("attention.sliding_window_pattern")
        if isinstance(value, list):
            if len(value) < self.n_layer:
                fail(f"{self.arch}.attention.sliding_window_pattern has {len(value)} entries for {self.n_layer} layers")
            return [bool(v) for v in value[: self.n_layer]]
        n = int(value) if value is not None else n_pattern
        return [n == 0 or il % n < n - 1 for il in range(self.n_layer)]


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rope_cache(positions, n_rot, freq_base, freq_scale=1.0, freq_factors=None):
    """cos/sin (T, n_rot/2) like ggml_rope_cache_init: theta_0 = p, theta_i = theta_{i-1} * base^(-2/n_rot) in float32,
    divided by freq_factors[i] when given (rope_yarn(theta / ff, ...)), times freq_scale."""
    theta_scale = np.float32(np.power(np.float32(freq_base), np.float32(-2.0) / np.float32(n_rot)))
    theta = positions.astype(np.float32)
    cols = []
    for i in range(n_rot // 2):
        t = theta if freq_factors is None else (theta / np.float32(freq_factors[i])).astype(np.float32)
        cols.append(t.copy() if freq_scale == 1.0 else (t * np.float32(freq_scale)).astype(np.float32))
        theta = (theta * theta_scale).astype(np.float32)
    th = np.stack(cols, axis=1).astype(np.float64)
    return torch.from_numpy(np.cos(th).astype(np.float32)), torch.from_numpy(np.sin(th).astype(np.float32))


def rope(x, cos, sin, n_rot, neox):
    """x (T, heads, D). NORM rotates adjacent pairs (2i, 2i+1); NEOX rotates (i, i + n_rot/2) (ggml rotate_pairs)."""
    rot, rest = x[..., :n_rot], x[..., n_rot:]
    c, s = cos[:, None, :], sin[:, None, :]
    if neox:
        x0, x1 = rot[..., : n_rot // 2], rot[..., n_rot // 2:]
        out = torch.cat((x0 * c - x1 * s, x0 * s + x1 * c), dim=-1)
    else:
        x0, x1 = rot[..., 0::2], rot[..., 1::2]
        out = torch.stack((x0 * c - x1 * s, x0 * s + x1 * c), dim=-1).flatten(-2)
    return torch.cat((out, rest), dim=-1)


def gelu_ggml(x, table=True):
    """ggml's GELU: the fp16 table (GGML_GELU_FP16) for -10 < x < 10, 0 below, x above; `table=False` is plain tanh GELU."""
    def tanh_gelu(v):
        return 0.5 * v * (1.0 + torch.tanh(f32(SQRT_2_OVER_PI) * v * (1.0 + f32(GELU_COEF_A) * v * v)))
    if not table:
        return tanh_gelu(x)
    looked_up = tanh_gelu(x.half().float()).half().float()
    table_value = torch.where(x <= -10.0, torch.zeros_like(x), torch.where(x >= 10.0, x, looked_up))
    # The table's value forward, the tanh approximation's derivative at the unrounded x backward: the engine's GELU
    # backward (patch 0008, ggml_gelu_derivative) differentiates the approximation itself, not the rounded lookup.
    exact = tanh_gelu(x)
    return exact + (table_value - exact).detach()


def attention_masks(model, batch, causal_only):
    """Additive masks (T, T): one for global layers, one for sliding-window layers (None when the model has none)."""
    pos = torch.tensor(batch["positions"], dtype=torch.long)
    seq = torch.tensor(batch["seqIds"], dtype=torch.long)
    T = pos.shape[0]
    # A key j is visible to query i when both belong to the same sequence and j is not in i's future.
    visible = (seq[:, None] == seq[None, :]) & (pos[None, :] <= pos[:, None])
    full = torch.zeros(T, T).masked_fill(~visible, float("-inf"))
    if model.n_swa == 0 or causal_only:
        return full, None
    in_window = (pos[:, None] - pos[None, :]) < model.n_swa
    return full, torch.zeros(T, T).masked_fill(~(visible & in_window), float("-inf"))


def adapted_linear(weights, adapter, used):
    """x @ W^T (+ bias) (+ scale * B(A x) where the adapter has a pair for W); records each adapted weight in `used`."""
    def lin(x, name):
        y = x @ weights[name + ".weight"].T
        if (name + ".bias") in weights:
            y = y + weights[name + ".bias"]
        if adapter is not None and (name + ".weight") in adapter.pairs:
            a, b = adapter.pairs[name + ".weight"]
            y = y + ((x @ a.T) @ b.T) * adapter.scale(name + ".weight")
            used.add(name + ".weight")
        return y
    return lin


def finish_logits(model, adapter, used, logits):
    """The final soft-cap, then the check that every adapter pair met a weight the graph multiplies by."""
    if model.final_softcap is not None:
        logits = torch.tanh(logits * f32(1.0 / model.final_softcap)) * f32(model.final_softcap)
    if adapter is not None:
        unused = sorted(set(adapter.pairs) - used)
        if unused:
            fail(f"adapter tensors for {', '.join(unused)} match no weight the {model.arch} graph multiplies by")
    return logits


def forward(model, adapter, batch, causal_only=False, gelu_table=True):
    """Logits (T, V) for one packed micro-batch. `causal_only` ignores sliding windows (a deliberately wrong mask)."""
    if model.arch == "gemma4":
        return forward_gemma4(model, adapter, batch, causal_only, gelu_table)
    tokens = torch.tensor(batch["tokens"], dtype=torch.long)
    positions = np.asarray(batch["positions"], dtype=np.int64)
    T = tokens.shape[0]
    H, Hkv, D = model.n_head, model.n_head_kv, model.head_dim
    cos, sin = rope_cache(positions, model.n_rot, model.freq_base, model.freq_scale)
    cos_swa, sin_swa = rope_cache(positions, model.n_rot, model.freq_base_swa, model.swa_freq_scale) if model.n_swa else (cos, sin)
    mask_full, mask_swa = attention_masks(model, batch, causal_only)
    temp = None
    if model.temp_scale != 0.0:  # llm_graph_input_attn_temp::set_input
        floors = np.floor(positions.astype(np.float32) / np.float32(model.n_ctx_orig)).astype(np.float64)
        temp = torch.from_numpy((np.log(floors + 1.0) * model.temp_scale + 1.0).astype(np.float32))[:, None, None]
    used = set()
    lin = adapted_linear(model.w, adapter, used)

    x = model.w["token_embd.weight"][tokens]
    if model.embd_scale is not None:
        x = x * f32(model.embd_scale)
    for il in range(model.n_layer):
        p = f"blk.{il}."
        swa = model.is_swa[il] and mask_swa is not None
        h = rms_norm(x, model.w[p + "attn_norm.weight"], model.eps)
        if model.arch == "phi3":  # one projection, q | k | v along the output
            qkv = lin(h, p + "attn_qkv")
            q, k, v = qkv[:, : H * D], qkv[:, H * D: (H + Hkv) * D], qkv[:, (H + Hkv) * D:]
        else:
            q, k, v = lin(h, p + "attn_q"), lin(h, p + "attn_k"), lin(h, p + "attn_v")
        q, k, v = q.reshape(T, H, D), k.reshape(T, Hkv, D), v.reshape(T, Hkv, D)
        if (p + "attn_q_norm.weight") in model.w:
            q = rms_norm(q, model.w[p + "attn_q_norm.weight"], model.eps)
            k = rms_norm(k, model.w[p + "attn_k_norm.weight"], model.eps)
        if not model.no_rope[il]:
            c, s = (cos_swa, sin_swa) if model.is_swa[il] else (cos, sin)
            q, k = rope(q, c, s, model.n_rot, model.neox), rope(k, c, s, model.n_rot, model.neox)
        if temp is not None:
            q = q * temp
        if model.q_scale is not None:
            q = q * f32(model.q_scale)
        group = H // Hkv
        k = k.repeat_interleave(group, dim=1)  # query head h reads kv head h // group, as ggml broadcasts
        v = v.repeat_interleave(group, dim=1)
        scores = torch.einsum("ihd,jhd->hij", q, k)
        if model.attn_softcap is not None:  # build_attn_mha: kq = cap * tanh(kq / cap), before the mask and softmax
            scores = torch.tanh(scores * f32(1.0 / model.attn_softcap)) * f32(model.attn_softcap)
        scores = scores * f32(model.kq_scale) + (mask_swa if swa else mask_full)
        att = torch.softmax(scores, dim=-1)
        o = lin(torch.einsum("hij,jhd->ihd", att, v).reshape(T, H * D), p + "attn_output")
        if (p + "post_attention_norm.weight") in model.w:
            o = rms_norm(o, model.w[p + "post_attention_norm.weight"], model.eps)
        x = x + o
        h = rms_norm(x, model.w[p + "ffn_norm.weight"], model.eps)
        if model.arch == "phi3":  # ffn_up holds gate | up; ggml_swiglu applies SiLU to the first half
            gu = lin(h, p + "ffn_up")
            f = torch.nn.functional.silu(gu[:, : model.n_ff]) * gu[:, model.n_ff:]
        elif model.arch.startswith("gemma"):
            f = gelu_ggml(lin(h, p + "ffn_gate"), gelu_table) * lin(h, p + "ffn_up")
        else:
            f = torch.nn.functional.silu(lin(h, p + "ffn_gate")) * lin(h, p + "ffn_up")
        f = lin(f, p + "ffn_down")
        if (p + "post_ffw_norm.weight") in model.w:
            f = rms_norm(f, model.w[p + "post_ffw_norm.weight"], model.eps)
        x = x + f
    x = rms_norm(x, model.w["output_norm.weight"], model.eps)
    if adapter is not None and "output.weight" in adapter.pairs:
        logits = lin(x, "output")
    else:
        logits = x @ model.w["output.weight"].T
    return finish_logits(model, adapter, used, logits)


def forward_gemma4(model, adapter, batch, causal_only=False, gelu_table=True):
    """Gemma 4 (dense), as llama.cpp's src/models/gemma4.cpp builds it, op for op."""
    tokens = torch.tensor(batch["tokens"], dtype=torch.long)
    positions = np.asarray(batch["positions"], dtype=np.int64)
    T = tokens.shape[0]
    E, H, L, eps = model.n_embd, model.n_head, model.n_layer, model.eps
    w = model.w
    ff = w["rope_freqs.weight"].numpy() if "rope_freqs.weight" in w else None
    cos, sin = rope_cache(positions, model.n_rot, model.freq_base, model.freq_scale, ff)
    cos_swa, sin_swa = rope_cache(positions, model.n_rot_swa, model.freq_base_swa, model.swa_freq_scale)
    mask_full, mask_swa = attention_masks(model, batch, causal_only)
    used = set()
    lin = adapted_linear(w, adapter, used)

    x = w["token_embd.weight"][tokens] * f32(math.sqrt(np.float32(E)))  # inp_scaled: sqrtf(n_embd)
    per_layer = None
    if "per_layer_token_embd.weight" in w:
        P = w["per_layer_proj_norm.weight"].shape[0]
        # build_inp_per_layer: the token's row [P * n_layer] as (n_layer, P), times sqrtf(P)
        tok = w["per_layer_token_embd.weight"][tokens].reshape(T, L, P) * f32(math.sqrt(np.float32(P)))
        # project_per_layer_inputs: per_layer_model_proj of the scaled embedding / sqrtf(n_embd), RMS-normed per layer
        proj = (x @ w["per_layer_model_proj.weight"].T) * f32(np.float32(1.0) / np.float32(math.sqrt(np.float32(E))))
        proj = rms_norm(proj.reshape(T, L, P), w["per_layer_proj_norm.weight"], eps)
        per_layer = (proj + tok) * f32(np.float32(1.0) / np.float32(math.sqrt(np.float32(2.0))))
    kv = {}
    for il in range(L):
        p = f"blk.{il}."
        is_swa = model.is_swa[il]
        D = w[p + "attn_q_norm.weight"].shape[0]
        n_rot = model.n_rot_swa if is_swa else model.n_rot
        c, s = (cos_swa, sin_swa) if is_swa else (cos, sin)
        h = rms_norm(x, w[p + "attn_norm.weight"], eps)
        q = lin(h, p + "attn_q").reshape(T, H, D)
        q = rope(rms_norm(q, w[p + "attn_q_norm.weight"], eps), c, s, n_rot, True)
        src = model.kv_source[il]
        if src != il:
            # a shared-KV layer: llama.cpp loads an adapter on its attn_k/attn_v (stock does, from any adapter file) but
            # never multiplies by it, and neither does the reference (the engine gives them none)
            used.update(p + n for n in ("attn_k.weight", "attn_v.weight"))
        if src == il:
            k_raw = lin(h, p + "attn_k")
            v_raw = lin(h, p + "attn_v") if (p + "attn_v.weight") in w else k_raw  # no v_proj: V = K
            Hkv = k_raw.shape[1] // D
            k = rope(rms_norm(k_raw.reshape(T, Hkv, D), w[p + "attn_k_norm.weight"], eps), c, s, n_rot, True)
            v = rms_norm(v_raw.reshape(T, Hkv, D), torch.ones(()), eps)  # ggml_rms_norm: no weight
            kv[il] = (k, v)
        else:
            k, v = kv[src]
        Hkv = k.shape[1]
        group = H // Hkv
        k = k.repeat_interleave(group, dim=1)
        v = v.repeat_interleave(group, dim=1)
        scores = torch.einsum("ihd,jhd->hij", q, k) * f32(model.kq_scale)
        scores = scores + (mask_swa if (is_swa and mask_swa is not None) else mask_full)
        att = torch.softmax(scores, dim=-1)
        o = lin(torch.einsum("hij,jhd->ihd", att, v).reshape(T, H * D), p + "attn_output")
        o = rms_norm(o, w[p + "post_attention_norm.weight"], eps)
        attn_out = o + x
        h = rms_norm(attn_out, w[p + "ffn_norm.weight"], eps)
        f = gelu_ggml(lin(h, p + "ffn_gate"), gelu_table) * lin(h, p + "ffn_up")
        f = rms_norm(lin(f, p + "ffn_down"), w[p + "post_ffw_norm.weight"], eps)
        x = f + attn_out
        if per_layer is not None:
            g = gelu_ggml(lin(x, p + "inp_gate"), gelu_table) * per_layer[:, il, :]
            g = rms_norm(lin(g, p + "proj"), w[p + "post_norm.weight"], eps)
            x = x + g
        if (p + "layer_output_scale.weight") in w:
            x = x * w[p + "layer_output_scale.weight"]
    x = rms_norm(x, w["output_norm.weight"], eps)
    logits = lin(x, "output")
    return finish_logits(model, adapter, used, logits)
