#!/usr/bin/python3
"""PyTorch's side of model_bench: a TorchScript image encoder run end to end
from JPEG files with CLIP's reference preprocessing, and on its own.

Usage: torch_peer.py MODEL.pt IMAGE_DIR [--batch-size B] [--threads T]
                     [--workers 0,1] [--runs R] [--count N]
                     [--preprocess auto|torchvision|pil]

Run with Debian's /usr/bin/python3 (python3-torch 1.13, python3-pil; and
python3-torchvision 0.14 if installed). The model is loaded with
torch.jit.load(MODEL, map_location="cpu") and called as
model.encode_image(float[N,3,224,224]) under torch.inference_mode() (or
torch.no_grad()), after torch.set_num_threads(T).

Preprocessing is CLIP's _transform: Resize(224, BICUBIC) of the shorter side,
CenterCrop(224), convert("RGB"), ToTensor, Normalize(CLIP's mean and std).
With --preprocess auto (the default) that is torchvision's transforms if
torchvision imports, else the same steps written with PIL and numpy (what
torchvision 0.14 does for a PIL image: PIL's resize with BICUBIC, PIL's crop
with the same rounding, /255, then (x - mean) / std).

Measured, in this order, after a warm-up of two forward passes:
- end to end, per DataLoader configuration (num_workers from --workers):
  files -> decode -> preprocess -> batch -> encode_image, every image once;
- forward only: encode_image on the same images' tensors, prepared beforehand
  and already batched;
- preprocessing alone, serially in this process: decoding (Image.open + load)
  and the whole transform, per image.
Each is repeated --runs times. Prints one JSON object on stdout.
"""
import argparse
import contextlib
import json
import os
import statistics
import sys
import time

import numpy as np
import torch
from PIL import Image

MEAN = (0.48145466, 0.4578275, 0.40821073)
STD = (0.26862954, 0.26130258, 0.27577711)
RESOLUTION = 224
EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


def torchvision_transform():
    from torchvision.transforms import CenterCrop, Compose, InterpolationMode, Normalize, Resize, ToTensor
    return Compose([
        Resize(RESOLUTION, interpolation=InterpolationMode.BICUBIC),
        CenterCrop(RESOLUTION),
        lambda image: image.convert("RGB"),
        ToTensor(),
        Normalize(MEAN, STD),
    ])


class PilTransform:
    """CLIP's transform with PIL and numpy, step for step as torchvision 0.14
    does it for a PIL image."""

    def __init__(self):
        self.mean = np.array(MEAN, dtype=np.float32).reshape(3, 1, 1)
        self.std = np.array(STD, dtype=np.float32).reshape(3, 1, 1)

    def __call__(self, image):
        # Resize(224): the shorter side to 224, the longer to int(224 * long / short).
        w, h = image.size
        short, long = (w, h) if w <= h else (h, w)
        new_short, new_long = RESOLUTION, int(RESOLUTION * long / short)
        size = (new_short, new_long) if w <= h else (new_long, new_short)
        if size != (w, h):
            image = image.resize(size, Image.BICUBIC)
        # CenterCrop(224) (never needs padding after the resize).
        w, h = image.size
        top = int(round((h - RESOLUTION) / 2.0))
        left = int(round((w - RESOLUTION) / 2.0))
        image = image.crop((left, top, left + RESOLUTION, top + RESOLUTION)).convert("RGB")
        # ToTensor + Normalize.
        x = np.asarray(image, dtype=np.float32).transpose(2, 0, 1) / 255.0
        return torch.from_numpy((x - self.mean) / self.std)


class Files(torch.utils.data.Dataset):
    def __init__(self, paths, transform):
        self.paths, self.transform = paths, transform

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        with Image.open(self.paths[i]) as image:
            return self.transform(image)


def no_grad():
    mode = getattr(torch, "inference_mode", None)
    return mode() if mode is not None else torch.no_grad()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("image_dir")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--workers", default="0,1")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--count", type=int, default=0, help="use the first N images (0: all)")
    parser.add_argument("--preprocess", choices=["auto", "torchvision", "pil"], default="auto")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    transform_name = args.preprocess
    if transform_name in ("auto", "torchvision"):
        try:
            transform = torchvision_transform()
            import torchvision
            transform_name = "torchvision " + torchvision.__version__
        except ImportError:
            if args.preprocess == "torchvision":
                raise
            transform_name = "pil"
    if transform_name == "pil":
        transform = PilTransform()
        transform_name = "PIL + numpy (torchvision's steps)"

    paths = sorted(os.path.join(root, f) for root, _, files in os.walk(args.image_dir)
                   for f in files if f.lower().endswith(EXTENSIONS))
    if args.count:
        paths = paths[:args.count]
    if not paths:
        sys.exit(f"no images under {args.image_dir}")
    n, b = len(paths), args.batch_size

    start = time.perf_counter()
    model = torch.jit.load(args.model, map_location="cpu")
    model.eval()
    load_s = time.perf_counter() - start
    dataset = Files(paths, transform)

    # Prepared tensors, batched, for the forward-only runs.
    tensors = [dataset[i] for i in range(n)]
    batches = [torch.stack(tensors[i:i + b]) for i in range(0, n, b)]
    del tensors

    with no_grad():
        # Warm-up: TorchScript's profiling executor optimises the graph over
        # the first calls.
        for _ in range(2):
            model.encode_image(batches[0])

        result = {
            "torch_version": torch.__version__,
            "threads": torch.get_num_threads(),
            "interop_threads": torch.get_num_interop_threads(),
            "preprocess": transform_name,
            "images": n,
            "batch_size": b,
            "model_load_s": load_s,
            "e2e": {},
        }
        omp = os.environ.get("OMP_NUM_THREADS")
        if omp is not None:
            result["OMP_NUM_THREADS"] = omp

        workers = [int(w) for w in args.workers.split(",") if w != ""]
        e2e_s = {w: [] for w in workers}
        forward_s, decode_s, preprocess_s = [], [], []
        for _ in range(args.runs):
            for w in workers:
                start = time.perf_counter()
                loader = torch.utils.data.DataLoader(dataset, batch_size=b, shuffle=False, num_workers=w)
                rows = 0
                for batch in loader:
                    rows += model.encode_image(batch).shape[0]
                e2e_s[w].append(time.perf_counter() - start)
                assert rows == n
            start = time.perf_counter()
            for batch in batches:
                model.encode_image(batch)
            forward_s.append(time.perf_counter() - start)
            start = time.perf_counter()
            for p in paths:
                with Image.open(p) as image:
                    image.load()
            decode_s.append(time.perf_counter() - start)
            start = time.perf_counter()
            for i in range(n):
                dataset[i]
            preprocess_s.append(time.perf_counter() - start)

    for w in workers:
        med = statistics.median(e2e_s[w])
        result["e2e"][f"num_workers={w}"] = {
            "seconds": e2e_s[w], "median_s": med, "images_per_s": n / med}
    fwd = statistics.median(forward_s)
    result["forward"] = {
        "seconds": forward_s, "median_s": fwd, "images_per_s": n / fwd, "ms_per_batch": fwd * 1e3 / len(batches)}
    result["decode_ms_per_image"] = statistics.median(decode_s) * 1e3 / n
    result["preprocess_ms_per_image"] = statistics.median(preprocess_s) * 1e3 / n
    best = max(result["e2e"], key=lambda k: result["e2e"][k]["images_per_s"])
    result["best_e2e"] = best
    print(json.dumps(result))


if __name__ == "__main__":
    main()
