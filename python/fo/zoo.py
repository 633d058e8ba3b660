"""fo.zoo: ``import fo.zoo as foz``, as ``import fiftyone.zoo as foz``.

Zoo *models* are referred to by name (they are loaded by the C++ library
when a run uses them). Of the zoo *datasets*, only the synthetic "shapes"
data set (no download) is available here.
"""

import os

import fo
from fo import _fo


class ZooModel:
    """A handle on a zoo model, usable as ``compute_similarity(model=...)``."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return "<ZooModel: %s>" % self.name


def load_zoo_model(name, **kwargs):
    return ZooModel(name)


def load_zoo_dataset(name, dataset_name=None, max_samples=None, seed=51,
                     dataset_dir=None, overwrite=False, **kwargs):
    """Loads a zoo data set. Only "shapes" (synthetic coloured shapes with
    ``ground_truth`` detections) is available."""
    if name != "shapes":
        raise ValueError("zoo dataset %r is not available; only 'shapes' is" % name)
    dataset_name = dataset_name or name
    if fo.dataset_exists(dataset_name):
        if not overwrite:
            return fo.load_dataset(dataset_name)
        fo.delete_dataset(dataset_name)
    if dataset_dir is None:
        home = os.environ.get("HOME", ".")
        dataset_dir = os.path.join(home, "fiftyone", "shapes-%d" % seed)
    samples = _fo.generate_shapes(dataset_dir, num_images=max_samples or 200, seed=seed)
    dataset = fo.Dataset(dataset_name)
    dataset.add_samples(samples)
    return dataset


__all__ = ["ZooModel", "load_zoo_dataset", "load_zoo_model"]
