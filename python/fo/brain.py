"""fo.brain: ``import fo.brain as fob``, as ``import fiftyone.brain as fob``."""

from fo import _fo


class Similarity:
    """Marker for similarity runs: ``dataset.list_brain_runs(type=fob.Similarity)``."""

    _fo_run_type = "similarity"


def compute_similarity(samples, model=None, embeddings=None, patches_field=None,
                       brain_key=None, backend=None, **kwargs):
    """Builds a similarity index over ``samples`` (a Dataset or a view).

    ``model`` is a zoo or registry name, a TorchScript path, or a model
    returned by ``fo.zoo.load_zoo_model``. ``embeddings`` is a numpy array
    (rows aligned with the samples, or with their ``patches_field`` labels),
    the name of a field holding vectors, ``False`` for an empty index, or
    ``None`` to compute them with ``model`` (default: the built-in model).
    Other keyword arguments are backend parameters (``metric``, ``url``,
    ``collection_name``, ``hnsw_config``...) or ``batch_size``,
    ``num_workers``, ``skip_failures``, ``progress``, ``force_square``.
    """
    if model is not None and not isinstance(model, (str, _fo.Model)):
        raise ValueError("model must be a model name or a model from fo.zoo.load_zoo_model, got a %s"
                         % type(model).__name__)
    return _fo.compute_similarity(samples, model=model, embeddings=embeddings,
                                  patches_field=patches_field, brain_key=brain_key,
                                  backend=backend, **kwargs)


__all__ = ["Similarity", "compute_similarity"]
