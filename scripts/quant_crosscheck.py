#!/usr/bin/env python3
"""Generates the dequantization fixtures tests/fixtures/quant/<type>.bin.

Each fixture holds random blocks of one GGUF tensor type and the float32 values that an
independent implementation (llama.cpp's pure-numpy gguf-py package, used from a checkout
outside this repository and never copied into it) decodes them to. tests/quant/fixture_test.cpp
compares our dequantize_row with these values.

File layout (little-endian):
    char     magic[4]  = "RFQF"
    uint32   version   = 1
    uint32   type_id     (GGUF / ggml type id)
    uint32   n_blocks
    uint8    blocks[n_blocks * type_size]
    float32  values[n_blocks * block_size]

Random bytes are constrained so that every fp16 scale is finite (NaN/inf scales make the
comparison meaningless); blocks 0..3 get the special scales +0, -0, 65504 and the smallest
subnormal. MXFP4 exponents are kept <= 252 so 12 * 2^(e-128) stays a finite float.

Usage: /usr/bin/python3 scripts/quant_crosscheck.py --gguf-py <llama.cpp>/gguf-py \
           [--out tests/fixtures/quant] [--seed 1234]

With --bounds it instead prints the normalised RMSE of the textbook quantizer of each format
(max-scaled, round to nearest, float scales) on N(0, 1) data: the basis of the round-trip
bounds in tests/quant/quantize_test.cpp and docs/QUANT.md (no gguf-py needed).
"""

import argparse
import importlib
import struct
import sys
import types
from pathlib import Path

import numpy as np

# Offsets of the fp16 fields inside each block; "iq1_m" has its scale spread over 4 nibbles.
FP16_FIELDS = {
    "f16": [0], "q4_0": [0], "q4_1": [0, 2], "q5_0": [0], "q5_1": [0, 2], "q8_0": [0],
    "q2_k": [80, 82], "q3_k": [108], "q4_k": [0, 2], "q5_k": [0, 2], "q6_k": [208],
    "iq4_nl": [0], "iq4_xs": [0], "tq1_0": [52], "tq2_0": [64],
    "iq2_xxs": [0], "iq2_xs": [0], "iq2_s": [0], "iq3_xxs": [0], "iq3_s": [0], "iq1_s": [0],
}
SPECIAL_FP16 = [0x0000, 0x8000, 0x7BFF, 0x0001]
BLOCKS_32 = 32    # blocks per fixture for 32-element types
BLOCKS_256 = 6    # ... for 256-element types
BLOCKS_GRID = 8   # ... for the grid i-quants (more blocks: more grid indices covered)
GRID_TYPES = {"iq2_xxs", "iq2_xs", "iq2_s", "iq3_xxs", "iq3_s", "iq1_s", "iq1_m"}


def load_gguf(gguf_py_dir: Path):
    """Imports gguf.constants and gguf.quants without running gguf/__init__.py (which pulls in
    optional dependencies such as sentencepiece)."""
    pkg = types.ModuleType("gguf")
    pkg.__path__ = [str(gguf_py_dir / "gguf")]
    sys.modules["gguf"] = pkg
    return importlib.import_module("gguf.constants"), importlib.import_module("gguf.quants")


def finite_fp16(rng, value: int) -> int:
    """Replaces an all-ones exponent (inf/NaN) by a random finite one."""
    if (value >> 10) & 0x1F == 0x1F:
        value = (value & ~(0x1F << 10)) | (int(rng.integers(0, 31)) << 10)
    return value


def constrain(name: str, blocks: np.ndarray, rng) -> None:
    """Makes the scales of every block finite, in place. blocks: (n_blocks, type_size) uint8."""
    for b, row in enumerate(blocks):
        if name == "mxfp4":
            row[0] = min(int(row[0]), 252)
            continue
        if name == "bf16":
            v = int(row[0]) | (int(row[1]) << 8)
            if (v >> 7) & 0xFF == 0xFF:
                v &= ~(1 << 14)
            row[0], row[1] = v & 0xFF, v >> 8
            continue
        if name == "iq1_m":
            words = row[48:56].view("<u2")
            d = sum(((int(words[k]) >> 12) & 0xF) << (4 * k) for k in range(4))
            d = SPECIAL_FP16[b] if b < len(SPECIAL_FP16) else finite_fp16(rng, d)
            for k in range(4):
                words[k] = (int(words[k]) & 0x0FFF) | (((d >> (4 * k)) & 0xF) << 12)
            continue
        for off in FP16_FIELDS.get(name, []):
            v = int(row[off]) | (int(row[off + 1]) << 8)
            v = SPECIAL_FP16[b] if (b < len(SPECIAL_FP16) and name != "f16") else finite_fp16(rng, v)
            row[off], row[off + 1] = v & 0xFF, v >> 8


def fixture_types(constants):
    """(file name, ggml type) for every type gguf-py can dequantize, except the trivial F32."""
    quants = sys.modules["gguf.quants"]
    out = []
    for qtype in constants.GGMLQuantizationType:
        name = qtype.name.lower()
        if qtype.name == "F16" or qtype in quants._type_traits:  # F16 is handled by dequantize()
            out.append((name, qtype))
    return out


def textbook_bounds(seed: int) -> None:
    """Prints the textbook normalised RMSE per format (see the module docstring)."""
    x = np.random.default_rng(seed).standard_normal(1 << 21)

    def blocks(size):
        return x.reshape(-1, size)

    def signed_max(b):  # the value of largest magnitude, with its sign
        return b[np.arange(len(b)), np.abs(b).argmax(1)][:, None]

    def symmetric(bits, size):  # d = max / -2^(bits-1), levels -2^(bits-1) .. 2^(bits-1) - 1
        b, half = blocks(size), 1 << (bits - 1)
        d = signed_max(b) / -half
        return np.clip(np.round(b / d), -half, half - 1) * d

    def eight_bit(size):  # d = max|x| / 127
        b = blocks(size)
        d = np.abs(b).max(1, keepdims=True) / 127
        return np.round(b / d) * d

    def min_max(bits, size):  # d = (max - min) / (2^bits - 1), offset min
        b = blocks(size)
        lo, hi = b.min(1, keepdims=True), b.max(1, keepdims=True)
        d = (hi - lo) / ((1 << bits) - 1)
        return lo + np.round((b - lo) / d) * d

    def codebook(values, b, d):  # nearest codebook value times d
        idx = np.abs(b[..., None] / d[..., None] - values).argmin(-1)
        return values[idx] * d

    iq4 = np.array([-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113], float)
    fp4 = np.array([0, .5, 1, 1.5, 2, 3, 4, 6, 0, -.5, -1, -1.5, -2, -3, -4, -6])
    b32 = blocks(32)
    fp4_scale = 2.0 ** (np.floor(np.log2(np.abs(b32).max(1, keepdims=True))) - 2)
    b256 = blocks(256)
    tern_d = np.abs(b256).max(1, keepdims=True)
    rows = [
        ("q4_0", symmetric(4, 32)), ("q4_1", min_max(4, 32)), ("q5_0", symmetric(5, 32)),
        ("q5_1", min_max(5, 32)), ("q8_0", eight_bit(32)), ("q2_K", min_max(2, 16)),
        ("q3_K", symmetric(3, 16)), ("q4_K", min_max(4, 32)), ("q5_K", min_max(5, 32)),
        ("q6_K", symmetric(6, 16)), ("q8_K", eight_bit(256)),
        ("iq4_nl/xs", codebook(iq4, b32, signed_max(b32) / -127)),
        ("mxfp4", codebook(fp4, b32, fp4_scale)),
        ("tq1_0/tq2_0", np.clip(np.round(b256 / tern_d), -1, 1) * tern_d),
    ]
    for name, y in rows:
        e = np.sqrt(np.mean((x - y.reshape(-1)) ** 2) / np.mean(x ** 2))
        print(f"{name:12s} textbook nrmse {e:.5f}   bound (x1.03) {1.03 * e:.5f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gguf-py", type=Path, help="path to llama.cpp's gguf-py folder")
    ap.add_argument("--bounds", action="store_true", help="print the textbook RMSE per format and exit")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "tests/fixtures/quant")
    ap.add_argument("--seed", type=int, default=1234)
    args = ap.parse_args()
    if args.bounds:
        textbook_bounds(args.seed)
        return 0
    if args.gguf_py is None:
        ap.error("--gguf-py is required to write fixtures")

    constants, quants = load_gguf(args.gguf_py)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, qtype in fixture_types(constants):
        block_size, type_size = constants.GGML_QUANT_SIZES[qtype]
        rng = np.random.default_rng([args.seed, int(qtype)])
        if block_size == 1:
            n_blocks = 256
        elif name in GRID_TYPES:
            n_blocks = BLOCKS_GRID
        else:
            n_blocks = BLOCKS_32 if block_size == 32 else BLOCKS_256
        blocks = rng.integers(0, 256, size=(n_blocks, type_size), dtype=np.uint8)
        constrain(name, blocks, rng)
        values = quants.dequantize(blocks.reshape(-1).copy(), qtype).astype("<f4").reshape(-1)
        assert values.size == n_blocks * block_size, name
        assert np.all(np.isfinite(values)), name
        header = b"RFQF" + struct.pack("<III", 1, int(qtype), n_blocks)
        path = args.out / f"{name}.bin"
        path.write_bytes(header + blocks.tobytes() + values.tobytes())
        print(f"{path.name:12s} type {int(qtype):2d}  {n_blocks:3d} blocks  {path.stat().st_size:6d} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
