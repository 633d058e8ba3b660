#!/usr/bin/python3
"""Writes N deterministic photo-like JPEG files for model_bench.

Usage: make_jpegs.py DIR [--count N] [--seed S] [--quality Q]

Sizes cycle through 640x480, 500x375, 480x640, 375x500 (landscape and portrait,
like COCO's), and every 8th image is 1024x768. Each image is a smooth colour
gradient, a few filled ellipses and rectangles, then Gaussian noise, saved at
quality 90 (4:2:0, as PIL does by default). Same arguments, same files.
Run with Debian's /usr/bin/python3 (numpy, python3-pil).
"""
import argparse
import os

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

SIZES = [(640, 480), (500, 375), (480, 640), (375, 500)]


def make_image(i, rng):
    w, h = (1024, 768) if i % 8 == 7 else SIZES[i % len(SIZES)]
    # A bilinear gradient between four random corner colours.
    corners = rng.uniform(0, 255, size=(2, 2, 3))
    ys = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    xs = np.linspace(0, 1, w, dtype=np.float32)[None, :, None]
    top = corners[0, 0] * (1 - xs) + corners[0, 1] * xs
    bottom = corners[1, 0] * (1 - xs) + corners[1, 1] * xs
    base = top * (1 - ys) + bottom * ys
    img = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(3, 9))):
        x0, y0 = rng.uniform(-0.2, 1.0) * w, rng.uniform(-0.2, 1.0) * h
        x1, y1 = x0 + rng.uniform(0.05, 0.6) * w, y0 + rng.uniform(0.05, 0.6) * h
        colour = tuple(int(c) for c in rng.integers(0, 256, size=3))
        if rng.uniform() < 0.5:
            draw.ellipse([x0, y0, x1, y1], fill=colour)
        else:
            draw.rectangle([x0, y0, x1, y1], fill=colour)
    img = img.filter(ImageFilter.GaussianBlur(radius=float(rng.uniform(0.5, 3.0))))
    noisy = np.asarray(img, dtype=np.float32) + rng.normal(0, rng.uniform(3, 12), size=(h, w, 3))
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8), "RGB")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory")
    parser.add_argument("--count", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quality", type=int, default=90)
    args = parser.parse_args()
    os.makedirs(args.directory, exist_ok=True)
    total = 0
    for i in range(args.count):
        rng = np.random.default_rng([args.seed, i])
        path = os.path.join(args.directory, f"img_{i:05d}.jpg")
        make_image(i, rng).save(path, quality=args.quality)
        total += os.path.getsize(path)
    print(f"wrote {args.count} JPEG files to {args.directory} ({total / 2**20:.1f} MiB)")


if __name__ == "__main__":
    main()
