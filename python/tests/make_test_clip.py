"""Writes a TorchScript model with CLIP ViT-B/32's interface and sizes
(encode_image on (n, 3, 224, 224), encode_text on (n, 77) token ids, both
512-d) but almost no compute, standing in for the zoo's
clip-vit-base32-torch in the integration page's examples (no download here).

Usage: /usr/bin/python3 make_test_clip.py OUT.pt
"""

import sys

import torch


class TestClip(torch.nn.Module):
    def __init__(self):
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.image_proj = torch.nn.Parameter(torch.randn(3 * 8 * 8, 512, generator=g))
        self.token_table = torch.nn.Parameter(torch.randn(4096, 512, generator=g))

    @torch.jit.export
    def encode_image(self, image: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.adaptive_avg_pool2d(image, 8).flatten(1) @ self.image_proj

    @torch.jit.export
    def encode_text(self, text: torch.Tensor) -> torch.Tensor:
        mask = (text != 0).float().unsqueeze(-1)
        summed = (self.token_table[text % 4096] * mask).sum(1)
        return summed / mask.sum(1).clamp(min=1.0)

    def forward(self, image: torch.Tensor, text: torch.Tensor):
        return self.encode_image(image), self.encode_text(text)


if __name__ == "__main__":
    torch.jit.script(TestClip()).save(sys.argv[1])
