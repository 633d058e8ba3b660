#!/usr/bin/python3
"""Builds a TorchScript file with CLIP ViT-B/32's architecture and random weights.

Usage: make_vit_b32.py [OUTPUT.pt] [--seed S]

OUTPUT defaults to $TMPDIR/fo-bench/vit_b32_random.pt ($TMPDIR defaults to
/tmp). Run with Debian's /usr/bin/python3 (python3-torch 1.13).

The model is written here from the architecture's description, not copied:

- image tower: conv 3->768, kernel 32, stride 32, no bias (7x7 = 49 patches);
  a learned class embedding prepended; positional embedding 50x768; ln_pre;
  12 residual attention blocks (width 768, 12 heads); ln_post on the class
  token; projection 768->512 (no bias).
- text tower: token embedding 49408x512; positional embedding 77x512; 12
  blocks (width 512, 8 heads) with a causal mask; ln_final; the features at
  the end token (argmax of the token ids); projection 512->512.
- a block: x + attn(ln_1(x)), then x + mlp(ln_2(x)), with mlp = Linear(w, 4w),
  QuickGELU (x * sigmoid(1.702 x)), Linear(4w, w); attention is
  nn.MultiheadAttention (sequence-first layout, as in the released archives).

The two methods, encode_image(float[N,3,224,224]) -> [N,512] and
encode_text(int64[N,77]) -> [N,512], are traced with torch.jit.trace_module;
the file also carries the int64 buffers input_resolution, context_length and
vocab_size that the released CLIP TorchScript archives have. After saving, the
file is loaded back and run at batch 1 and 3 to check that the trace did not
bake the batch size in.
"""
import argparse
import os
import sys
import time

import torch
from torch import nn

WIDTH_IMAGE, LAYERS_IMAGE, HEADS_IMAGE, PATCH, RESOLUTION = 768, 12, 12, 32, 224
WIDTH_TEXT, LAYERS_TEXT, HEADS_TEXT, CONTEXT, VOCAB = 512, 12, 8, 77, 49408
EMBED_DIM = 512


class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class Block(nn.Module):
    """Pre-norm residual attention block; input is [L, N, width]."""

    def __init__(self, width, heads, mask=None):
        super().__init__()
        self.ln_1 = nn.LayerNorm(width)
        self.attn = nn.MultiheadAttention(width, heads)
        self.ln_2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), QuickGELU(), nn.Linear(4 * width, width))
        self.mask = mask

    def forward(self, x):
        h = self.ln_1(x)
        mask = None if self.mask is None else self.mask.to(dtype=x.dtype, device=x.device)
        x = x + self.attn(h, h, h, need_weights=False, attn_mask=mask)[0]
        return x + self.mlp(self.ln_2(x))


class VisionTower(nn.Module):
    def __init__(self):
        super().__init__()
        w = WIDTH_IMAGE
        grid = RESOLUTION // PATCH
        scale = w ** -0.5
        self.conv1 = nn.Conv2d(3, w, kernel_size=PATCH, stride=PATCH, bias=False)
        self.class_embedding = nn.Parameter(scale * torch.randn(w))
        self.positional_embedding = nn.Parameter(scale * torch.randn(grid * grid + 1, w))
        self.ln_pre = nn.LayerNorm(w)
        self.blocks = nn.Sequential(*[Block(w, HEADS_IMAGE) for _ in range(LAYERS_IMAGE)])
        self.ln_post = nn.LayerNorm(w)
        self.proj = nn.Parameter(scale * torch.randn(w, EMBED_DIM))

    def forward(self, image):
        x = self.conv1(image)                      # [N, w, 7, 7]
        x = x.flatten(2).transpose(1, 2)           # [N, 49, w]
        cls = self.class_embedding.to(x.dtype).expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], dim=1) + self.positional_embedding.to(x.dtype)
        x = self.ln_pre(x).transpose(0, 1)         # [50, N, w]
        x = self.blocks(x).transpose(0, 1)         # [N, 50, w]
        return self.ln_post(x[:, 0, :]) @ self.proj


class TextTower(nn.Module):
    def __init__(self):
        super().__init__()
        w = WIDTH_TEXT
        # Additive causal mask: -inf above the diagonal.
        mask = torch.full((CONTEXT, CONTEXT), float("-inf")).triu_(1)
        self.token_embedding = nn.Embedding(VOCAB, w)
        self.positional_embedding = nn.Parameter(0.01 * torch.randn(CONTEXT, w))
        self.blocks = nn.Sequential(*[Block(w, HEADS_TEXT, mask) for _ in range(LAYERS_TEXT)])
        self.ln_final = nn.LayerNorm(w)
        self.text_projection = nn.Parameter(w ** -0.5 * torch.randn(w, EMBED_DIM))
        nn.init.normal_(self.token_embedding.weight, std=0.02)

    def forward(self, ids):
        x = self.token_embedding(ids) + self.positional_embedding  # [N, 77, w]
        x = self.blocks(x.transpose(0, 1)).transpose(0, 1)
        x = self.ln_final(x)
        end = ids.argmax(dim=-1)
        return x[torch.arange(x.shape[0]), end] @ self.text_projection


class Clip(nn.Module):
    def __init__(self):
        super().__init__()
        self.visual = VisionTower()
        self.transformer = TextTower()
        self.logit_scale = nn.Parameter(torch.tensor(4.6052))
        self.register_buffer("input_resolution", torch.tensor(RESOLUTION, dtype=torch.int64))
        self.register_buffer("context_length", torch.tensor(CONTEXT, dtype=torch.int64))
        self.register_buffer("vocab_size", torch.tensor(VOCAB, dtype=torch.int64))

    def encode_image(self, image):
        return self.visual(image)

    def encode_text(self, ids):
        return self.transformer(ids)

    def forward(self, image, ids):
        return self.encode_image(image), self.encode_text(ids)


def example_ids(n, generator):
    """Token ids shaped like the tokenizer's: start, words, end (the max), zeros."""
    ids = torch.zeros(n, CONTEXT, dtype=torch.int64)
    for i in range(n):
        length = 3 + 5 * i % 20
        ids[i, 0] = VOCAB - 2
        ids[i, 1:length - 1] = torch.randint(1, VOCAB - 2, (length - 2,), generator=generator)
        ids[i, length - 1] = VOCAB - 1
    return ids


def main():
    default = os.path.join(os.environ.get("TMPDIR") or "/tmp", "fo-bench", "vit_b32_random.pt")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", nargs="?", default=default)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    start = time.perf_counter()
    torch.manual_seed(args.seed)
    model = Clip().eval()
    params = sum(p.numel() for p in model.parameters())
    gen = torch.Generator().manual_seed(args.seed + 1)
    image2 = torch.randn(2, 3, RESOLUTION, RESOLUTION, generator=gen)
    ids2 = example_ids(2, gen)
    with torch.no_grad():
        traced = torch.jit.trace_module(
            model, {"encode_image": (image2,), "encode_text": (ids2,)}, check_trace=False)
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    traced.save(args.output)

    # Load back and check the batch size was not baked in: batch 1 and 3 must
    # run and agree with the eager model.
    loaded = torch.jit.load(args.output, map_location="cpu")
    worst = 0.0
    with torch.no_grad():
        for n in (1, 3):
            image = torch.randn(n, 3, RESOLUTION, RESOLUTION, generator=gen)
            ids = example_ids(n, gen)
            got_i, want_i = loaded.encode_image(image), model.encode_image(image)
            got_t, want_t = loaded.encode_text(ids), model.encode_text(ids)
            if got_i.shape != (n, EMBED_DIM) or got_t.shape != (n, EMBED_DIM):
                sys.exit(f"batch {n}: shapes {tuple(got_i.shape)} {tuple(got_t.shape)}, want ({n}, {EMBED_DIM})")
            worst = max(worst, (got_i - want_i).abs().max().item(), (got_t - want_t).abs().max().item())
    if worst > 1e-3:
        sys.exit(f"traced and eager outputs differ by {worst}")
    for name in ("input_resolution", "context_length", "vocab_size"):
        value = getattr(loaded, name)
        assert value.dtype == torch.int64, name

    size = os.path.getsize(args.output)
    print(f"wrote {args.output}: {params:,} parameters, {size / 2**20:.1f} MiB, "
          f"batch 1 and 3 checked (max |traced - eager| = {worst:.2e}), {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
