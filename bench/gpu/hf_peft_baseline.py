#!/usr/bin/env python3
"""HF transformers + PEFT bf16 LoRA baseline of the GPU benchmark (issue 6), and the GPU's measured bf16 peak.

    python3 bench/gpu/hf_peft_baseline.py --shape-json WORK/llama-3.2-1b.shape.json [--seq 512] [--tokens-per-step 4096]
        [--micro-batch 8] [--rank 16] [--steps 10] [--warmup 2] [--dry-run]
    python3 bench/gpu/hf_peft_baseline.py --peak-bf16 [--dry-run]

The model is built from a LlamaConfig / Qwen2Config with the shape the engine benchmark wrote (random weights,
no download, no bitsandbytes), in bf16 on the GPU, with a PEFT LoRA of rank r on all seven projections (alpha = 2r,
no dropout) and torch.optim.AdamW on the adapter. Rows are `seq` random tokens; an optimizer step is
tokens-per-step / seq rows, `micro-batch` rows per forward. Prints one JSON line: tokens/s and peak VRAM
(torch.cuda.max_memory_reserved and max_memory_allocated, weights included).

--peak-bf16 times an 8192^3 bf16 matmul and prints the best TFLOP/s: the MFU denominator, measured in the same run.
--dry-run checks the arguments and the shape file and prints the plan without importing transformers or touching
a GPU, so the script can be checked on a machine without either.
"""
import argparse
import json
import sys
import time

PROJECTIONS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--shape-json", help="shape file written by out/bench/gpu/engineBench.mjs")
    p.add_argument("--seq", type=positive_int, default=512)
    p.add_argument("--tokens-per-step", type=positive_int, default=4096)
    p.add_argument("--micro-batch", type=positive_int, default=8)
    p.add_argument("--rank", type=positive_int, default=16)
    p.add_argument("--steps", type=positive_int, default=10)
    p.add_argument("--warmup", type=positive_int, default=2)
    p.add_argument("--peak-bf16", action="store_true")
    p.add_argument("--dry-run", action="store_true")
    args = p.parse_args(argv)
    if not args.peak_bf16:
        if not args.shape_json:
            p.error("--shape-json is required (or --peak-bf16)")
        rows = args.tokens_per_step // args.seq
        if rows * args.seq != args.tokens_per_step:
            p.error(f"--tokens-per-step {args.tokens_per_step} must be a multiple of --seq {args.seq}")
        if rows % args.micro_batch != 0:
            p.error(f"--micro-batch {args.micro_batch} must divide the {rows} rows of an optimizer step")
    return args


def load_shape(path):
    try:
        with open(path, encoding="utf-8") as f:
            shape = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        sys.exit(f"hf_peft_baseline: cannot read the shape file {path}: {e}")
    for field in ["name", "arch", "shape", "vocabSize", "tiedEmbeddings", "matmulParams"]:
        if field not in shape:
            sys.exit(f"hf_peft_baseline: {path}: field '{field}' is missing")
    if shape["arch"] not in ("llama", "qwen2"):
        sys.exit(f"hf_peft_baseline: {path}: field 'arch' must be llama or qwen2, got {shape['arch']!r}")
    return shape


def config_kwargs(shape):
    """The HF config fields of the engine's shape (transformers LlamaConfig / Qwen2Config names)."""
    s = shape["shape"]
    return dict(
        vocab_size=shape["vocabSize"],
        hidden_size=s["nEmbd"],
        intermediate_size=s["nFf"],
        num_hidden_layers=s["nLayer"],
        num_attention_heads=s["nHead"],
        num_key_value_heads=s["nHeadKv"],
        rms_norm_eps=s["rmsEps"],
        rope_theta=s["ropeFreqBase"],
        max_position_embeddings=4096,
        tie_word_embeddings=shape["tiedEmbeddings"],
    )


def peak_bf16(dry_run):
    n, iters = 8192, 20
    if dry_run:
        print(json.dumps({"kind": "peak", "dryRun": True, "n": n, "iters": iters}))
        return
    import torch

    a = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
    for _ in range(3):
        a @ b
    best = 0.0
    for _ in range(iters):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        a @ b
        end.record()
        torch.cuda.synchronize()
        best = max(best, 2 * n**3 / (start.elapsed_time(end) / 1000))
    print(json.dumps({"kind": "peak", "device": torch.cuda.get_device_name(), "bf16Flops": best, "torch": torch.__version__}))


def run_baseline(args, shape):
    rows_per_step = args.tokens_per_step // args.seq
    plan = {
        "kind": "hf-peft", "shape": shape["name"], "arch": shape["arch"], "config": config_kwargs(shape), "seqLen": args.seq,
        "tokensPerOptimizerStep": args.tokens_per_step, "microBatch": args.micro_batch,
        "accumulation": rows_per_step // args.micro_batch, "rank": args.rank, "targetModules": PROJECTIONS,
    }
    if args.dry_run:
        print(json.dumps({**plan, "dryRun": True}))
        return

    import torch
    import transformers
    import peft

    config_class = transformers.LlamaConfig if shape["arch"] == "llama" else transformers.Qwen2Config
    config = config_class(**config_kwargs(shape))
    torch.manual_seed(0)
    with torch.device("cuda"):
        try:
            model = transformers.AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16, attn_implementation="sdpa")
        except TypeError:  # transformers < 4.56 names it torch_dtype
            model = transformers.AutoModelForCausalLM.from_config(config, torch_dtype=torch.bfloat16, attn_implementation="sdpa")
    lora = peft.LoraConfig(r=args.rank, lora_alpha=2 * args.rank, lora_dropout=0.0, target_modules=PROJECTIONS, task_type="CAUSAL_LM")
    model = peft.get_peft_model(model, lora)
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    generator = torch.Generator(device="cuda").manual_seed(1)

    def optimizer_step():
        for _ in range(rows_per_step // args.micro_batch):
            ids = torch.randint(0, min(shape["vocabSize"], 100000), (args.micro_batch, args.seq), device="cuda", generator=generator)
            loss = model(input_ids=ids, labels=ids).loss / (rows_per_step // args.micro_batch)
            loss.backward()
        torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return loss.item()

    for _ in range(args.warmup):
        optimizer_step()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(args.steps):
        loss = optimizer_step()
    torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    print(json.dumps({
        **plan, "device": torch.cuda.get_device_name(), "optimizerSteps": args.steps, "seconds": seconds,
        "tokensPerSecond": args.steps * args.tokens_per_step / seconds,
        "peakVramReservedBytes": torch.cuda.max_memory_reserved(), "peakVramAllocatedBytes": torch.cuda.max_memory_allocated(),
        "finalLoss": loss, "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__},
    }))


def main(argv):
    args = parse_args(argv)
    if args.peak_bf16:
        peak_bf16(args.dry_run)
    else:
        run_baseline(args, load_shape(args.shape_json))


if __name__ == "__main__":
    main(sys.argv[1:])
