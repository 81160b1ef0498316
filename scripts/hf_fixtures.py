#!/usr/bin/env python3
"""Reference logits from Hugging Face transformers for tiny random-weight models.

For each architecture the converter supports, builds a tiny model from a config (no downloads),
randomises it with a fixed seed, saves it with save_pretrained (safetensors, float32) and records,
for three token-id prompts, the float32 logits of every position (eager attention, CPU) and the
greedy 32-token continuation. tests/hf/hf_logits_test.cpp converts each folder with our converter
and compares our engine against these numbers.

    python3 scripts/hf_fixtures.py OUT_DIR [--arch NAME ...]

Files per architecture (OUT_DIR/<arch>/):
    config.json, model.safetensors     the HF model (what `rocmforge convert` reads)
    fixture.json                       prompts, continuations, shapes, top-2 margins, versions
    logits.bin                         float32 little-endian, prompt after prompt, [n_tokens, n_vocab]
"""
import argparse
import json
import os
import struct
import sys

import torch
import transformers
from transformers import AutoConfig, AutoModelForCausalLM

N_VOCAB = 256
N_CONTINUATION = 32
PROMPT_LENGTHS = (1, 9, 24)
WEIGHT_STD = 0.2  # large enough that logits spread over a few units, so greedy is not a coin toss

COMMON = dict(
    vocab_size=N_VOCAB,
    hidden_size=64,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    intermediate_size=128,
    max_position_embeddings=256,
    rms_norm_eps=1e-5,
    rope_theta=10000.0,
    tie_word_embeddings=False,
    bos_token_id=1,
    eos_token_id=2,
    initializer_range=0.02,
)

# name -> (model_type, architecture class name, overrides, rope scaling or None)
ARCHS = {
    "llama": ("llama", "LlamaForCausalLM", {}, None),
    "llama3_rope": ("llama", "LlamaForCausalLM", {}, dict(
        rope_type="llama3", factor=8.0, low_freq_factor=1.0, high_freq_factor=4.0,
        original_max_position_embeddings=64)),
    "mistral": ("mistral", "MistralForCausalLM", dict(sliding_window=None), None),
    "qwen2": ("qwen2", "Qwen2ForCausalLM", dict(tie_word_embeddings=True, use_sliding_window=False), None),
    "qwen3": ("qwen3", "Qwen3ForCausalLM", dict(head_dim=32, use_sliding_window=False), None),
    "qwen3moe": ("qwen3_moe", "Qwen3MoeForCausalLM", dict(
        head_dim=16, num_experts=4, num_experts_per_tok=2, moe_intermediate_size=32,
        norm_topk_prob=True, decoder_sparse_step=1, mlp_only_layers=[], use_sliding_window=False), None),
    "mixtral": ("mixtral", "MixtralForCausalLM", dict(
        num_local_experts=4, num_experts_per_tok=2, intermediate_size=32, sliding_window=None), None),
}


def make_config(model_type, arch_class, overrides, rope_scaling):
    kwargs = dict(COMMON)
    kwargs.update(overrides)
    kwargs["architectures"] = [arch_class]
    if rope_scaling is not None:
        kwargs["rope_scaling"] = dict(rope_scaling)
    try:
        config = AutoConfig.for_model(model_type, **kwargs)
    except AttributeError:
        from transformers.models.auto.configuration_auto import CONFIG_MAPPING
        config = CONFIG_MAPPING[model_type](**kwargs)
    # transformers 5 keeps RoPE settings in `rope_parameters` (theta included); 4.x in
    # rope_theta + rope_scaling. Make sure whichever this version reads holds our values.
    if hasattr(config, "rope_parameters"):
        params = dict(rope_type="default", rope_theta=COMMON["rope_theta"])
        if rope_scaling is not None:
            params.update(rope_scaling)
        config.rope_parameters = params
    try:
        config._attn_implementation = "eager"
    except Exception:  # some versions only take it through from_config
        pass
    return config


def build_model(config):
    last = None
    for kwargs in (dict(attn_implementation="eager", experts_implementation="eager", dtype=torch.float32),
                   dict(attn_implementation="eager", dtype=torch.float32),
                   dict(attn_implementation="eager", torch_dtype=torch.float32),
                   dict(attn_implementation="eager")):
        try:
            return AutoModelForCausalLM.from_config(config, **kwargs).float()
        except (TypeError, ValueError) as e:
            last = e
    raise RuntimeError(f"from_config rejected every argument set: {last}")


@torch.no_grad()
def randomise(model, seed):
    """Every matrix ~ N(0, WEIGHT_STD); norm weights 1 + N(0, 0.1); biases N(0, 0.1)."""
    gen = torch.Generator().manual_seed(seed)
    for name, p in model.named_parameters():
        if p.dim() >= 2:
            p.copy_(torch.randn(p.shape, generator=gen) * WEIGHT_STD)
        elif name.endswith("bias"):
            p.copy_(torch.randn(p.shape, generator=gen) * 0.1)
        else:
            p.copy_(1.0 + torch.randn(p.shape, generator=gen) * 0.1)


@torch.no_grad()
def logits_of(model, ids):
    out = model(input_ids=torch.tensor([ids], dtype=torch.long), use_cache=False)
    return out.logits[0].float()


@torch.no_grad()
def greedy(model, ids, n):
    """Greedy continuation by full recomputation (no cache: the simplest correct reference)."""
    ids = list(ids)
    tokens, margins = [], []
    for _ in range(n):
        last = logits_of(model, ids)[-1]
        top2 = torch.topk(last, 2)
        token = int(top2.indices[0])
        margins.append(float(top2.values[0] - top2.values[1]))
        tokens.append(token)
        ids.append(token)
    return tokens, margins


def safetensors_manifest(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
    return {k: [v["dtype"], v["shape"]] for k, v in header.items() if k != "__metadata__"}


def save(model, out_dir):
    try:
        model.save_pretrained(out_dir, safe_serialization=True)
    except TypeError:
        model.save_pretrained(out_dir)


def run_arch(name, out_root, seed):
    model_type, arch_class, overrides, rope_scaling = ARCHS[name]
    config = make_config(model_type, arch_class, overrides, rope_scaling)
    torch.manual_seed(seed)
    model = build_model(config)
    randomise(model, seed)
    model.eval()

    out_dir = os.path.join(out_root, name)
    os.makedirs(out_dir, exist_ok=True)
    save(model, out_dir)
    st_path = os.path.join(out_dir, "model.safetensors")
    manifest = safetensors_manifest(st_path)

    gen = torch.Generator().manual_seed(seed + 1)
    prompts = [torch.randint(0, N_VOCAB, (n,), generator=gen).tolist() for n in PROMPT_LENGTHS]
    all_logits, continuations, margins = [], [], []
    for prompt in prompts:
        all_logits.append(logits_of(model, prompt))
        tokens, gaps = greedy(model, prompt, N_CONTINUATION)
        continuations.append(tokens)
        margins.append(gaps)

    # The folder on disk must reproduce the model: reload it and compare.
    reloaded = AutoModelForCausalLM.from_pretrained(out_dir, attn_implementation="eager")
    reloaded.eval()
    reload_diff = float((logits_of(reloaded, prompts[2]) - all_logits[2]).abs().max())

    with open(os.path.join(out_dir, "logits.bin"), "wb") as f:
        for l in all_logits:
            f.write(l.contiguous().numpy().astype("<f4").tobytes())
    rotary = getattr(getattr(model, "model", model), "rotary_emb", None)
    inv_freq = rotary.inv_freq.tolist() if rotary is not None and hasattr(rotary, "inv_freq") else []
    fixture = dict(
        arch=name,
        hf_architecture=arch_class,
        n_vocab=N_VOCAB,
        prompts=prompts,
        continuations=continuations,
        top2_margins=margins,
        logits_file="logits.bin",
        logits_shape=[[len(p), N_VOCAB] for p in prompts],
        max_abs_logit=[float(l.abs().max()) for l in all_logits],
        reload_max_abs_diff=reload_diff,
        rope_inv_freq=inv_freq,
        seed=seed,
        torch=torch.__version__,
        transformers=transformers.__version__,
        attention="eager",
        dtype="float32",
    )
    with open(os.path.join(out_dir, "fixture.json"), "w") as f:
        json.dump(fixture, f, indent=1)
    size = os.path.getsize(st_path)
    print(f"== {name}: {arch_class} safetensors {size} bytes, reload diff {reload_diff:.3g}, "
          f"max|logit| {max(fixture['max_abs_logit']):.3f}, min margin "
          f"{min(min(m) for m in margins):.4f}")
    for k, (dtype, shape) in sorted(manifest.items()):
        print(f"   {k} {dtype} {shape}")
    print(f"   rope inv_freq {['%.5g' % v for v in inv_freq]}")
    return size


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out_dir")
    ap.add_argument("--arch", action="append", choices=sorted(ARCHS), help="default: all")
    ap.add_argument("--seed", type=int, default=1234)
    args = ap.parse_args()
    torch.set_num_threads(max(1, min(8, os.cpu_count() or 1)))
    torch.use_deterministic_algorithms(True, warn_only=True)
    print(f"torch {torch.__version__} transformers {transformers.__version__}")
    failed = []
    for i, name in enumerate(args.arch or list(ARCHS)):
        try:
            run_arch(name, args.out_dir, args.seed + 100 * i)
        except Exception as e:  # keep going: one architecture's failure must not lose the others
            import traceback
            traceback.print_exc()
            failed.append(f"{name}: {e}")
    if failed:
        print("FAILED:", *failed, sep="\n  ")
        sys.exit(1)


if __name__ == "__main__":
    main()
