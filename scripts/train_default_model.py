#!/usr/bin/env python3
"""Trains the embedded default model (models/default.gguf): a small LLaMA on the King James Bible.

The corpus is the King James Version text from Debian's bible-kjv-text package (public domain;
read with its `bible` program). Everything here is our own code: a byte-level BPE tokenizer
(GPT-2 style: byte->unicode alphabet, GPT-2 pre-tokenizer regex, merges learnt by frequency) and
a LLaMA decoder (RMSNorm, RoPE, GQA, SwiGLU) whose weights are saved under Hugging Face
LlamaForCausalLM names, so `rocmforge convert` turns the folder into the GGUF.

Steps (prepare needs only Python; train needs PyTorch and a GPU is strongly advised):
    python3 scripts/train_default_model.py prepare DATA_DIR            # corpus, tokenizer, token ids
    python3 scripts/train_default_model.py train DATA_DIR HF_OUT_DIR   # model -> HF folder
    build/.../rocmforge convert HF_OUT_DIR models/default.gguf --type q8_0
"""
import argparse
import collections
import json
import math
import os
import re
import struct
import subprocess
import sys
import time

EOT = "<|endoftext|>"
N_VOCAB = 4096  # 256 byte tokens + merges + EOT
# GPT-2's pre-tokenizer regex restricted to ASCII letters and digits: identical to the real one
# on this corpus, which is pure ASCII (prepare checks that).
PRETOKENIZE = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+""")
CHAT_TEMPLATE = "{% for message in messages %}{{ message['content'] }}\n{% endfor %}"

MODEL = dict(hidden_size=256, num_hidden_layers=6, num_attention_heads=8, num_key_value_heads=4,
             intermediate_size=640, max_position_embeddings=512, rms_norm_eps=1e-5, rope_theta=10000.0)


# ---------------------------------------------------------------------------------------------
# Tokenizer

def bytes_to_unicode():
    """GPT-2's reversible map from the 256 byte values to printable unicode characters."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    chars = list(keep)
    extra = 0
    for b in range(256):
        if b not in keep:
            keep.append(b)
            chars.append(256 + extra)
            extra += 1
    return dict(zip(keep, map(chr, chars)))


BYTE_CHAR = bytes_to_unicode()
CHAR_BYTE = {c: b for b, c in BYTE_CHAR.items()}


def word_symbols(word):
    return tuple(BYTE_CHAR[b] for b in word.encode("utf-8"))


def learn_merges(word_counts, n_merges):
    """Classic BPE: repeatedly merge the most frequent adjacent pair (ties: smallest pair)."""
    words = [list(word_symbols(w)) for w in word_counts]
    freqs = list(word_counts.values())
    pair_counts = collections.Counter()
    where = collections.defaultdict(set)
    for i, syms in enumerate(words):
        for pair in zip(syms, syms[1:]):
            pair_counts[pair] += freqs[i]
            where[pair].add(i)
    merges = []
    for _ in range(n_merges):
        if not pair_counts:
            break
        best = max(pair_counts.items(), key=lambda kv: (kv[1], kv[0]))[0]
        merges.append(best)
        merged = best[0] + best[1]
        for i in list(where[best]):
            syms, f = words[i], freqs[i]
            for pair in zip(syms, syms[1:]):
                pair_counts[pair] -= f
                if pair_counts[pair] <= 0:
                    del pair_counts[pair]
            out, j = [], 0
            while j < len(syms):
                if j + 1 < len(syms) and syms[j] == best[0] and syms[j + 1] == best[1]:
                    out.append(merged)
                    j += 2
                else:
                    out.append(syms[j])
                    j += 1
            words[i] = out
            for pair in zip(out, out[1:]):
                pair_counts[pair] += f
                where[pair].add(i)
        where.pop(best, None)
    return merges


class Bpe:
    """Encoder/decoder with the usual rank-ordered merge application (as our C++ tokenizer)."""

    def __init__(self, vocab, merges):
        self.vocab = vocab
        self.inverse = {i: t for t, i in vocab.items()}
        self.ranks = {pair: r for r, pair in enumerate(merges)}
        self.cache = {}

    def encode_word(self, word):
        if word in self.cache:
            return self.cache[word]
        syms = list(word_symbols(word))
        while len(syms) > 1:
            ranked = [(self.ranks.get(p, math.inf), k) for k, p in enumerate(zip(syms, syms[1:]))]
            rank, k = min(ranked)
            if rank == math.inf:
                break
            pair = (syms[k], syms[k + 1])
            out, j = [], 0
            while j < len(syms):
                if j + 1 < len(syms) and (syms[j], syms[j + 1]) == pair:
                    out.append(pair[0] + pair[1])
                    j += 2
                else:
                    out.append(syms[j])
                    j += 1
            syms = out
        ids = [self.vocab[s] for s in syms]
        self.cache[word] = ids
        return ids

    def encode(self, text):
        ids = []
        for word in PRETOKENIZE.findall(text):
            ids.extend(self.encode_word(word))
        return ids

    def decode(self, ids):
        out = bytearray()
        for i in ids:
            tok = self.inverse.get(int(i), "")
            if tok == EOT:
                out.extend(b"\n\n")
            else:
                out.extend(CHAR_BYTE[c] for c in tok)
        return out.decode("utf-8", errors="replace")


def load_kjv(text_path=None):
    """Chapters of the KJV as lists of verse strings (references stripped)."""
    if text_path:
        with open(text_path, encoding="utf-8") as f:
            raw = f.read()
    else:
        raw = subprocess.run(["bible", "-f", "Gen1:1-Rev22:21"], check=True, capture_output=True,
                             text=True, env=dict(os.environ, COLUMNS="100000")).stdout
    chapters, current, key = [], [], None
    for line in raw.splitlines():
        m = re.match(r"^(\w+?)(\d+):(\d+) (.*)$", line.strip())
        if not m:
            continue
        chapter_key = (m.group(1), m.group(2))
        if chapter_key != key and current:
            chapters.append(current)
            current = []
        key = chapter_key
        current.append(m.group(4).strip())
    if current:
        chapters.append(current)
    return chapters


def tokenizer_files(vocab, merges):
    tokenizer = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [{"id": vocab[EOT], "content": EOT, "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": False, "special": True}],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                          "use_regex": True},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                    "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                  "ignore_merges": False, "vocab": vocab, "merges": [f"{a} {b}" for a, b in merges]},
    }
    config = {"add_bos_token": True, "add_eos_token": False, "bos_token": EOT, "eos_token": EOT,
              "unk_token": None, "chat_template": CHAT_TEMPLATE, "model_max_length": MODEL["max_position_embeddings"],
              "tokenizer_class": "PreTrainedTokenizerFast", "clean_up_tokenization_spaces": False}
    return tokenizer, config


def cmd_prepare(args):
    t0 = time.time()
    chapters = load_kjv(args.text)
    texts = ["\n".join(verses) + "\n" for verses in chapters]
    if any(not t.isascii() for t in texts):
        sys.exit("corpus is not pure ASCII: the ASCII pre-tokenizer regex would differ from GPT-2's")
    counts = collections.Counter()
    for t in texts:
        counts.update(PRETOKENIZE.findall(t))
    merges = learn_merges(counts, N_VOCAB - 256 - 1)
    vocab = {BYTE_CHAR[b]: b for b in range(256)}
    for a, b in merges:
        vocab[a + b] = len(vocab)
    vocab[EOT] = len(vocab)
    assert len(vocab) == N_VOCAB, len(vocab)
    bpe = Bpe(vocab, merges)

    import array
    os.makedirs(args.data_dir, exist_ok=True)
    splits = {"train": array.array("H"), "val": array.array("H")}
    for i, t in enumerate(texts):
        split = "val" if i % 50 == 25 else "train"  # 2% of chapters held out, spread over the books
        splits[split].append(vocab[EOT])
        splits[split].extend(bpe.encode(t))
    for name, ids in splits.items():
        with open(os.path.join(args.data_dir, f"{name}.bin"), "wb") as f:
            ids.tofile(f)
    tokenizer, config = tokenizer_files(vocab, merges)
    with open(os.path.join(args.data_dir, "tokenizer.json"), "w") as f:
        json.dump(tokenizer, f, ensure_ascii=False)
    with open(os.path.join(args.data_dir, "tokenizer_config.json"), "w") as f:
        json.dump(config, f, indent=1)
    n_chars = sum(len(t) for t in texts)
    print(f"{len(chapters)} chapters, {n_chars} characters, {len(counts)} distinct pre-tokens; "
          f"train {len(splits['train'])} / val {len(splits['val'])} tokens "
          f"({n_chars / (len(splits['train']) + len(splits['val'])):.2f} chars/token); {time.time() - t0:.1f} s")
    print("sample:", [bpe.inverse[i] for i in bpe.encode(texts[0][:80])])


# ---------------------------------------------------------------------------------------------
# Model (trained here; its state_dict names are LlamaForCausalLM's)

def build_model_classes():
    import torch
    from torch import nn
    import torch.nn.functional as F

    def attention(q, k, v):
        if hasattr(F, "scaled_dot_product_attention"):
            return F.scaled_dot_product_attention(q, k, v, is_causal=True)
        t = q.shape[-2]  # plain causal softmax attention (older PyTorch)
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
        mask = torch.ones(t, t, dtype=torch.bool, device=q.device).triu(1)
        return torch.softmax(scores.masked_fill(mask, float("-inf")), dim=-1) @ v

    class RMSNorm(nn.Module):
        def __init__(self, dim, eps):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(dim))
            self.eps = eps

        def forward(self, x):
            xf = x.float()
            xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
            return self.weight * xf.to(x.dtype)

    class Attention(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.n_head, self.n_kv = c["num_attention_heads"], c["num_key_value_heads"]
            self.hd = c["hidden_size"] // self.n_head
            d = c["hidden_size"]
            self.q_proj = nn.Linear(d, self.n_head * self.hd, bias=False)
            self.k_proj = nn.Linear(d, self.n_kv * self.hd, bias=False)
            self.v_proj = nn.Linear(d, self.n_kv * self.hd, bias=False)
            self.o_proj = nn.Linear(self.n_head * self.hd, d, bias=False)

        def forward(self, x, cos, sin):
            b, t, _ = x.shape
            q = self.q_proj(x).view(b, t, self.n_head, self.hd).transpose(1, 2)
            k = self.k_proj(x).view(b, t, self.n_kv, self.hd).transpose(1, 2)
            v = self.v_proj(x).view(b, t, self.n_kv, self.hd).transpose(1, 2)

            def rotate(u):  # HF layout: the two halves of each head form the rotation pairs
                u1, u2 = u[..., : self.hd // 2], u[..., self.hd // 2:]
                return u * cos.to(u.dtype) + torch.cat((-u2, u1), dim=-1) * sin.to(u.dtype)

            q, k = rotate(q), rotate(k)
            rep = self.n_head // self.n_kv
            k = k.repeat_interleave(rep, dim=1)
            v = v.repeat_interleave(rep, dim=1)
            y = attention(q, k, v)
            return self.o_proj(y.transpose(1, 2).reshape(b, t, self.n_head * self.hd))

    class Mlp(nn.Module):
        def __init__(self, c):
            super().__init__()
            d, f = c["hidden_size"], c["intermediate_size"]
            self.gate_proj = nn.Linear(d, f, bias=False)
            self.up_proj = nn.Linear(d, f, bias=False)
            self.down_proj = nn.Linear(f, d, bias=False)

        def forward(self, x):
            return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))

    class Layer(nn.Module):
        def __init__(self, c, dropout):
            super().__init__()
            self.input_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
            self.self_attn = Attention(c)
            self.post_attention_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
            self.mlp = Mlp(c)
            self.drop = nn.Dropout(dropout)

        def forward(self, x, cos, sin):
            x = x + self.drop(self.self_attn(self.input_layernorm(x), cos, sin))
            return x + self.drop(self.mlp(self.post_attention_layernorm(x)))

    class Decoder(nn.Module):
        def __init__(self, c, dropout):
            super().__init__()
            self.embed_tokens = nn.Embedding(c["vocab_size"], c["hidden_size"])
            self.layers = nn.ModuleList([Layer(c, dropout) for _ in range(c["num_hidden_layers"])])
            self.norm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])

    class Llama(nn.Module):
        def __init__(self, c, dropout=0.0):
            super().__init__()
            self.c = c
            self.model = Decoder(c, dropout)
            self.lm_head = nn.Linear(c["hidden_size"], c["vocab_size"], bias=False)
            hd = c["hidden_size"] // c["num_attention_heads"]
            inv = 1.0 / (c["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
            self.register_buffer("inv_freq", inv, persistent=False)
            for name, p in self.named_parameters():
                if p.dim() == 2:
                    std = 0.02 / math.sqrt(2 * c["num_hidden_layers"]) if name.endswith(("o_proj.weight", "down_proj.weight")) else 0.02
                    nn.init.normal_(p, 0.0, std)

        def forward(self, ids):
            t = ids.shape[1]
            freqs = torch.outer(torch.arange(t, device=ids.device, dtype=torch.float32), self.inv_freq)
            emb = torch.cat((freqs, freqs), dim=-1)
            cos, sin = emb.cos()[None, None], emb.sin()[None, None]
            x = self.model.embed_tokens(ids)
            for layer in self.model.layers:
                x = layer(x, cos, sin)
            return self.lm_head(self.model.norm(x))

    return Llama


# ---------------------------------------------------------------------------------------------
# Safetensors writing (own code: 8-byte header length, JSON header, raw little-endian data)

def write_safetensors(path, tensors):
    header, offset, blobs = {"__metadata__": {"format": "pt"}}, 0, []
    for name, t in tensors:
        data = t.detach().cpu().float().contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)
    return offset


def save_hf_folder(model, out_dir, data_dir, n_shards):
    os.makedirs(out_dir, exist_ok=True)
    items = [(k, v) for k, v in model.state_dict().items()]
    per = math.ceil(len(items) / n_shards)
    weight_map, total = {}, 0
    for s in range(n_shards):
        part = items[s * per:(s + 1) * per]
        fname = f"model-{s + 1:05d}-of-{n_shards:05d}.safetensors" if n_shards > 1 else "model.safetensors"
        total += write_safetensors(os.path.join(out_dir, fname), part)
        weight_map.update({k: fname for k, _ in part})
    if n_shards > 1:
        with open(os.path.join(out_dir, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=1)
    with open(os.path.join(data_dir, "tokenizer.json")) as f:
        vocab = json.load(f)["model"]["vocab"]
    config = dict(MODEL, architectures=["LlamaForCausalLM"], model_type="llama", vocab_size=N_VOCAB,
                  hidden_act="silu", tie_word_embeddings=False, bos_token_id=vocab[EOT],
                  eos_token_id=vocab[EOT], attention_bias=False, mlp_bias=False, torch_dtype="float32")
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=1)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        with open(os.path.join(data_dir, name)) as src, open(os.path.join(out_dir, name), "w") as dst:
            dst.write(src.read())


# ---------------------------------------------------------------------------------------------
# Training

def generate(model, ids, n, temperature, top_k, gen):
    import torch
    ids = list(ids)
    for _ in range(n):
        x = torch.tensor([ids[-MODEL["max_position_embeddings"]:]], device=next(model.parameters()).device)
        logits = model(x)[0, -1].float()
        if temperature <= 0:
            nxt = int(logits.argmax())
        else:
            v, i = torch.topk(logits / temperature, top_k)
            nxt = int(i[torch.multinomial(torch.softmax(v, -1), 1, generator=gen)])
        ids.append(nxt)
    return ids


def cmd_train(args):
    import numpy as np
    import torch
    torch.manual_seed(args.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    train = torch.from_numpy(np.fromfile(os.path.join(args.data_dir, "train.bin"), dtype=np.uint16).astype(np.int64)).to(device)
    val = torch.from_numpy(np.fromfile(os.path.join(args.data_dir, "val.bin"), dtype=np.uint16).astype(np.int64)).to(device)
    c = dict(MODEL, vocab_size=N_VOCAB)
    Llama = build_model_classes()
    model = Llama(c, dropout=args.dropout).to(device)
    n_params = sum(p.numel() for p in model.parameters())
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}]
    try:
        opt = torch.optim.AdamW(groups, lr=args.lr, betas=(0.9, 0.95), fused=device == "cuda")
    except TypeError:
        opt = torch.optim.AdamW(groups, lr=args.lr, betas=(0.9, 0.95))
    T, B = args.seq, args.batch
    gen = torch.Generator(device=device).manual_seed(args.seed)

    def batch(data):
        off = torch.randint(0, len(data) - T - 1, (B,), device=device, generator=gen)
        idx = off[:, None] + torch.arange(T + 1, device=device)[None]
        chunk = data[idx]
        return chunk[:, :-1], chunk[:, 1:]

    amp = dict(device_type="cuda", dtype=torch.bfloat16) if device == "cuda" else dict(device_type="cpu", dtype=torch.bfloat16, enabled=False)

    @torch.no_grad()
    def evaluate(n=20):
        model.eval()
        losses = []
        for _ in range(n):
            x, y = batch(val)
            with torch.autocast(**amp):
                logits = model(x)
            losses.append(float(torch.nn.functional.cross_entropy(logits.float().view(-1, N_VOCAB), y.reshape(-1))))
        model.train()
        return sum(losses) / len(losses)

    print(f"{n_params} parameters; train {len(train)} val {len(val)} tokens; device {device}; budget {args.seconds} s")
    t0, step, best, best_state, log = time.time(), 0, float("inf"), None, []
    while True:
        frac = (time.time() - t0) / args.seconds
        if frac >= 1.0 or (args.max_steps and step >= args.max_steps):
            break
        lr = args.lr * min(1.0, (step + 1) / args.warmup) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(frac, 1.0))))
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = batch(train)
        with torch.autocast(**amp):
            logits = model(x)
        loss = torch.nn.functional.cross_entropy(logits.float().view(-1, N_VOCAB), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        if step % args.eval_every == 0:
            v = evaluate()
            log.append((step, round(time.time() - t0, 1), float(loss), v))
            print(f"step {step} t {time.time() - t0:.0f}s lr {lr:.2e} train {float(loss):.3f} val {v:.3f}", flush=True)
            if v < best:
                best = v
                best_state = {k: t.detach().clone() for k, t in model.state_dict().items()}
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    print(f"trained {step} steps in {time.time() - t0:.0f} s; best val loss {best:.3f} (ppl {math.exp(best):.1f})")
    save_hf_folder(model, args.out_dir, args.data_dir, args.shards)
    with open(os.path.join(args.out_dir, "training_log.json"), "w") as f:
        json.dump({"steps": step, "best_val_loss": best, "n_params": n_params, "log": log,
                   "args": vars(args), "torch": torch.__version__}, f, indent=1)
    sample(model, args.data_dir, args.out_dir)


def sample(model, data_dir, out_dir):
    import torch
    with open(os.path.join(data_dir, "tokenizer.json")) as f:
        tok = json.load(f)
    merges = [tuple(m.split(" ")) for m in tok["model"]["merges"]]
    bpe = Bpe(tok["model"]["vocab"], merges)
    eot = tok["model"]["vocab"][EOT]
    device = next(model.parameters()).device
    gen = torch.Generator(device=device).manual_seed(7)
    lines = []
    with torch.no_grad():
        for prompt in ("In the beginning", "And the LORD said unto Moses", "Blessed are"):
            ids = [eot] + bpe.encode(prompt)
            g = generate(model, ids, 60, 0.0, 0, gen)
            s = generate(model, ids, 60, 0.8, 40, gen)
            lines.append(f"## {prompt!r}\ngreedy: {bpe.decode(g[1:])}\nsampled: {bpe.decode(s[1:])}\n")
    text = "\n".join(lines)
    print(text)
    with open(os.path.join(out_dir, "samples.txt"), "w") as f:
        f.write(text)


def cmd_check_hf(args):
    """Cross-checks the saved folder against transformers' LlamaForCausalLM and tokenizers."""
    import torch
    from transformers import AutoModelForCausalLM
    Llama = build_model_classes()
    hf = AutoModelForCausalLM.from_pretrained(args.out_dir, attn_implementation="eager").float().eval()
    ours = Llama(dict(MODEL, vocab_size=N_VOCAB))
    wanted = ours.state_dict().keys()
    ours.load_state_dict({k: v for k, v in hf.state_dict().items() if k in wanted}, strict=True)
    ours.eval()
    ids = torch.randint(0, N_VOCAB, (1, 40), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        a, b = hf(ids).logits.float(), ours(ids).float()
    print(f"max |HF - ours| logits = {float((a - b).abs().max()):.3g} (max |logit| {float(a.abs().max()):.2f})")
    from tokenizers import Tokenizer
    t = Tokenizer.from_file(os.path.join(args.out_dir, "tokenizer.json"))
    with open(os.path.join(args.out_dir, "tokenizer.json")) as f:
        tok = json.load(f)
    bpe = Bpe(tok["model"]["vocab"], [tuple(m.split(" ")) for m in tok["model"]["merges"]])
    text = "And Jesus answered and said unto them, Verily I say unto you,  1234 it's\n\nthe LORD's!"
    print("tokenizers agrees with our BPE:", t.encode(text).ids == bpe.encode(text))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("data_dir")
    p.add_argument("--text", help="KJV text as `bible -f` prints it (default: run `bible`)")
    t = sub.add_parser("train")
    t.add_argument("data_dir")
    t.add_argument("out_dir")
    t.add_argument("--seconds", type=float, default=120)
    t.add_argument("--max-steps", type=int, default=0)
    t.add_argument("--batch", type=int, default=64)
    t.add_argument("--seq", type=int, default=512)
    t.add_argument("--lr", type=float, default=2e-3)
    t.add_argument("--warmup", type=int, default=200)
    t.add_argument("--dropout", type=float, default=0.1)
    t.add_argument("--eval-every", type=int, default=250)
    t.add_argument("--shards", type=int, default=2)
    t.add_argument("--seed", type=int, default=1)
    c = sub.add_parser("check-hf")
    c.add_argument("out_dir")
    args = ap.parse_args()
    {"prepare": cmd_prepare, "train": cmd_train, "check-hf": cmd_check_hf}[args.cmd](args)


if __name__ == "__main__":
    main()
