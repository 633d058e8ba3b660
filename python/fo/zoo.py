"""fo.zoo: ``import fo.zoo as foz``, as ``import fiftyone.zoo as foz``.

Zoo *models*: ``load_zoo_model(name)`` loads one (its files are downloaded
into the model zoo cache on first use, see the README's Configuration);
``list_zoo_models()`` names them.

Zoo *datasets* (``list_zoo_datasets()``):

- ``"quickstart"``: FiftyOne's own quickstart dataset (200 COCO-2017
  validation images with ``ground_truth`` and ``predictions`` detections,
  ``uniqueness`` and tags; about 23 MB), downloaded on first use from where
  FiftyOne downloads it, then imported. Needs the network once.
- ``"shapes"``: synthetic coloured shapes with ``ground_truth`` detections,
  generated locally: no download.

Files go where FiftyOne puts them: ``$FIFTYONE_DATASET_ZOO_DIR``, else
``$FIFTYONE_DEFAULT_DATASET_DIR``, else ``~/fiftyone``; the quickstart data in
``<that dir>/quickstart`` (``info.json``, ``metadata.json``, ``samples.json``,
``data/``, the same layout as FiftyOne's, so a copy downloaded by either is
used by both).

``$FIFTYONE_CPP_DATASET_ZOO_URL``: a base URL (``http://``, ``https://`` or
``file://``) from which ``<base>/quickstart.zip`` is downloaded instead of
FiftyOne's Google Drive file: a mirror, or a test server.
"""

import json
import logging
import os
import shutil
import zipfile
import zlib

import fo
from fo import _fo
from fo._import import extract_zip, import_fiftyone_dataset

logger = logging.getLogger(__name__)

#: Environment variable naming a base URL that serves ``quickstart.zip``.
DATASET_ZOO_URL_ENV = "FIFTYONE_CPP_DATASET_ZOO_URL"

# What FiftyOne's zoo downloads for "quickstart" (fiftyone/zoo/datasets/base.py,
# class QuickstartDataset): the Google Drive file 1UWTlFmdq8H-wdJHxVsAKpXBilY1CWwm_,
# saved as quickstart.zip, through eta.core.web.download_google_drive_file, which
# (since eta PR #610, January 2024) asks for
#   https://drive.usercontent.google.com/download?export=download&id=<id>&confirm=t
# ("confirm=t" skips Drive's virus-scan page). The zip (23.4 MB, CC-BY-4.0) holds one
# directory, quickstart/, with a FiftyOneDataset export: metadata.json (the dataset
# document), samples.json ({"samples": [...]}: filepath "data/<name>.jpg", tags
# ["validation"], metadata null, ground_truth and predictions Detections, uniqueness)
# and data/*.jpg. FiftyOne extracts it under <zoo dir>/quickstart/tmp-download, moves
# the directory's contents into <zoo dir>/quickstart, writes info.json there, and
# imports with FiftyOneDatasetImporter. It records no checksum or size for the
# archive, so none is checked here either.
_QUICKSTART_GDRIVE_ID = "1UWTlFmdq8H-wdJHxVsAKpXBilY1CWwm_"
_QUICKSTART_URL = ("https://drive.usercontent.google.com/download?export=download&id=%s&confirm=t"
                   % _QUICKSTART_GDRIVE_ID)
_QUICKSTART_ARCHIVE = "quickstart.zip"
_QUICKSTART_DIR_IN_ARCHIVE = "quickstart"
_SCRATCH_DIR = "tmp-download"
# info.json as FiftyOne's ZooDatasetInfo writes it, so that FiftyOne recognises
# the download too.
_QUICKSTART_INFO = {
    "name": "quickstart",
    "zoo_dataset": "fiftyone.zoo.datasets.base.QuickstartDataset",
    "dataset_type": "fiftyone.types.dataset_types.FiftyOneDataset",
}

_DOWNLOADED = ("quickstart",)
_GENERATED = ("shapes",)


# What load_zoo_model returns.
Model = _fo.Model


def load_zoo_model(name, **kwargs):
    """Loads a zoo model by name (downloading its files on first use), or a
    model of the built-in registry or a TorchScript file by path. ``kwargs``
    are model kwargs (``image_size``, ``mean``, ``std``, ``num_threads``...,
    see the README). The model offers ``embed``, ``embed_all``,
    ``embed_prompt`` and ``embed_prompts`` and can be passed as ``model=`` to
    ``compute_similarity`` and ``compute_embeddings``."""
    return _fo.load_model(name, **kwargs)


def list_zoo_models():
    """The names of the zoo's models, sorted."""
    return _fo.list_zoo_models()


def list_zoo_datasets():
    """The names of the zoo's datasets: ``["quickstart", "shapes"]``."""
    return sorted(_DOWNLOADED + _GENERATED)


def _dataset_zoo_dir():
    # FiftyOne's config: dataset_zoo_dir, else default_dataset_dir, else ~/fiftyone.
    d = os.environ.get("FIFTYONE_DATASET_ZOO_DIR") or os.environ.get("FIFTYONE_DEFAULT_DATASET_DIR")
    if d:
        return os.path.abspath(os.path.expanduser(d))
    return os.path.join(os.path.expanduser("~"), "fiftyone")


def _check_name(name):
    if name not in _DOWNLOADED + _GENERATED:
        raise ValueError("dataset %r not found in the zoo; available: %s"
                         % (name, ", ".join(list_zoo_datasets())))


def _quickstart_url():
    base = os.environ.get(DATASET_ZOO_URL_ENV)
    if base:
        return base.rstrip("/") + "/" + _QUICKSTART_ARCHIVE
    return _QUICKSTART_URL


def _is_downloaded(dataset_dir):
    return (os.path.isfile(os.path.join(dataset_dir, "info.json"))
            and os.path.isfile(os.path.join(dataset_dir, "samples.json")))


def _read_json(path):
    with open(path, "rb") as f:
        return json.load(f)


def _write_json_atomically(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=4)
    os.replace(tmp, path)


def _remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.remove(path)


def _download_archive(url, archive, dataset_dir):
    logger.info("Downloading dataset to '%s'", dataset_dir)
    new_dirs = [d for d in (os.path.dirname(archive), dataset_dir) if not os.path.isdir(d)]
    try:
        _fo.download_file(url, archive)
    except (ConnectionError, PermissionError) as e:
        reason = e.args[0] if e.args else str(e)
        prefix = "cannot download %s: " % url
        if reason.startswith(prefix):
            reason = reason[len(prefix):]
        if reason.startswith("HTTP "):
            why = "the server answered %s" % reason
        else:
            why = ("%s; this machine seems to be offline, or the server cannot be reached" % reason)
        # When nothing was received, remove the directories this call made
        # (a partial download stays, to be resumed next time).
        for d in new_dirs:
            if os.path.isdir(d) and not any(n.endswith(".part") for n in os.listdir(d)):
                for n in os.listdir(d):
                    if n.endswith(".lock"):
                        _remove(os.path.join(d, n))
                if not os.listdir(d):
                    os.rmdir(d)
        raise ConnectionError(
            "cannot download the zoo dataset 'quickstart' from %s: %s. "
            "foz.load_zoo_dataset(\"shapes\") works without a download; or put the archive at %s "
            "yourself and call again (or set $%s to a mirror)" % (url, why, archive, DATASET_ZOO_URL_ENV)) from None


def _unpack(archive, scratch, url):
    """Extracts the archive into scratch/extract and returns the directory in
    it that holds samples.json. A bad archive is deleted with the rest of
    scratch (so that the next call downloads it again) and reported as a
    ValueError."""
    extract_dir = os.path.join(scratch, "extract")
    _remove(extract_dir)
    try:
        extract_zip(archive, extract_dir)
    except (zipfile.BadZipFile, zlib.error, EOFError) as e:
        with open(archive, "rb") as f:
            head = f.read(512).lstrip()
        _remove(scratch)
        hint = ""
        if head.startswith(b"<"):
            hint = (" (the server sent a web page; Google Drive does this when it limits downloads: "
                    "try again later, or download the file in a browser)")
        raise ValueError("the quickstart archive downloaded from %s is not a valid zip file: %s%s; "
                         "it was deleted, so the next call downloads it again" % (url, e, hint)) from None
    except ValueError as e:
        _remove(scratch)
        raise ValueError("the quickstart archive downloaded from %s was rejected: %s; it was deleted"
                         % (url, e)) from None
    for d in (os.path.join(extract_dir, _QUICKSTART_DIR_IN_ARCHIVE), extract_dir):
        if os.path.isfile(os.path.join(d, "samples.json")):
            return d
    # Any single top-level directory holding the export.
    subdirs = [os.path.join(extract_dir, n) for n in os.listdir(extract_dir)]
    found = [d for d in subdirs if os.path.isfile(os.path.join(d, "samples.json"))]
    if len(found) == 1:
        return found[0]
    _remove(scratch)
    raise ValueError("the quickstart archive downloaded from %s holds no samples.json: it is not a "
                     "FiftyOneDataset export; it was deleted" % url)


def download_zoo_dataset(name, dataset_dir=None, overwrite=False, cleanup=True, **kwargs):
    """Downloads the zoo dataset ``name`` (only "quickstart" is downloaded;
    "shapes" is generated by :func:`load_zoo_dataset`) into ``dataset_dir``
    (default: ``<zoo dir>/<name>``, see the module's docstring), unless it is
    there already or ``overwrite``. Returns ``(info, dataset_dir)`` with info
    the dict of ``info.json``.

    The archive is downloaded into ``<dataset_dir>/tmp-download/`` (resumed
    after a dropped connection; a ``quickstart.zip`` already there is used
    as is), extracted with every member path checked, moved into place, and
    ``info.json`` written last, so a directory with ``info.json`` is
    complete. Raises ``ConnectionError`` when the download fails (offline,
    HTTP error) and ``ValueError`` for an archive that is not a valid
    FiftyOneDataset zip.
    """
    _check_name(name)
    if name in _GENERATED:
        raise ValueError("zoo dataset %r is generated, not downloaded: use load_zoo_dataset(%r)" % (name, name))
    dataset_dir = os.path.abspath(os.path.expanduser(dataset_dir or os.path.join(_dataset_zoo_dir(), name)))
    info_path = os.path.join(dataset_dir, "info.json")
    if not overwrite and _is_downloaded(dataset_dir):
        return _read_json(info_path), dataset_dir

    url = _quickstart_url()
    scratch = os.path.join(dataset_dir, _SCRATCH_DIR)
    archive = os.path.join(scratch, _QUICKSTART_ARCHIVE)
    if overwrite:
        _remove(archive)
        _remove(archive + ".part")
    if os.path.isfile(archive):
        logger.info("Using existing archive '%s'", archive)
    else:
        _download_archive(url, archive, dataset_dir)

    logger.info("Extracting dataset...")
    src = _unpack(archive, scratch, url)
    try:
        doc = _read_json(os.path.join(src, "samples.json"))
        samples = doc.get("samples") if isinstance(doc, dict) else None
        if not isinstance(samples, list):
            raise ValueError("no \"samples\" list")
        metadata_path = os.path.join(src, "metadata.json")
        metadata = _read_json(metadata_path) if os.path.isfile(metadata_path) else {}
    except ValueError as e:  # json.JSONDecodeError is a ValueError
        _remove(scratch)
        raise ValueError("the quickstart archive downloaded from %s has an unreadable samples.json or "
                         "metadata.json (%s); it was deleted" % (url, e)) from None

    # Move the export into place, replacing what an earlier download left;
    # info.json goes first so that a crash in between is not "downloaded".
    _remove(info_path)
    for entry in os.listdir(src):
        if entry in (_SCRATCH_DIR, "info.json"):
            continue
        dst = os.path.join(dataset_dir, entry)
        _remove(dst)
        shutil.move(os.path.join(src, entry), dst)
    info = dict(_QUICKSTART_INFO, num_samples=len(samples))
    classes = metadata.get("default_classes") if isinstance(metadata, dict) else None
    if classes:
        info["classes"] = classes
    _write_json_atomically(info_path, info)
    logger.info("Dataset info written to '%s'", info_path)
    if cleanup:
        _remove(scratch)
    else:
        _remove(os.path.join(scratch, "extract"))
    return info, dataset_dir


def load_zoo_dataset(name, split=None, splits=None, label_field=None, dataset_name=None, dataset_dir=None,
                     download_if_necessary=True, drop_existing_dataset=False, overwrite=False, cleanup=True,
                     max_samples=None, seed=51, **kwargs):
    """Loads the zoo dataset ``name`` (see :func:`list_zoo_datasets`) as a
    :class:`fo.Dataset`, as FiftyOne's ``load_zoo_dataset`` does.

    The dataset is named ``dataset_name``, by default ``name`` (plus
    ``-<max_samples>`` for a quickstart subset, as FiftyOne names it). If a
    dataset of that name exists it is returned as is, without touching the
    network, unless ``drop_existing_dataset`` (rebuild it from the files on
    disk) or ``overwrite`` (download the files again, and rebuild).

    "quickstart": downloaded if necessary (``download_if_necessary``) into
    ``dataset_dir`` (default ``<zoo dir>/quickstart``) by
    :func:`download_zoo_dataset`, then imported. Offline, raises a
    ``ConnectionError`` that names the URL and says that
    ``load_zoo_dataset("shapes")`` needs no download; a failed load leaves
    no dataset behind. ``$FIFTYONE_CPP_DATASET_ZOO_URL`` replaces the
    download's base URL (see the module's docstring).

    "shapes": ``max_samples`` images (default 200) generated with ``seed``
    into ``dataset_dir`` (default ``<zoo dir>/shapes-<seed>``).
    """
    _check_name(name)
    if split is not None or splits:
        raise ValueError("zoo dataset %r has no splits" % name)
    for key, value in kwargs.items():
        if value is not None:
            logger.warning("Ignoring unsupported parameter '%s' for zoo dataset '%s'", key, name)

    if name == "shapes":
        dataset_name = dataset_name or name
        if fo.dataset_exists(dataset_name):
            if not (overwrite or drop_existing_dataset):
                return fo.load_dataset(dataset_name)
            fo.delete_dataset(dataset_name)
        if dataset_dir is None:
            dataset_dir = os.path.join(_dataset_zoo_dir(), "shapes-%d" % seed)
        samples = _fo.generate_shapes(dataset_dir, num_images=max_samples or 200, seed=seed)
        dataset = fo.Dataset(dataset_name)
        dataset.add_samples(samples)
        return dataset

    if dataset_name is None:
        dataset_name = name if max_samples is None else "%s-%d" % (name, max_samples)
    if fo.dataset_exists(dataset_name) and not (overwrite or drop_existing_dataset):
        logger.info("Loading existing dataset '%s'. To reload from disk, either delete the existing "
                    "dataset or provide a custom `dataset_name` to use", dataset_name)
        return fo.load_dataset(dataset_name)

    if download_if_necessary:
        _, dataset_dir = download_zoo_dataset(name, dataset_dir=dataset_dir, overwrite=overwrite, cleanup=cleanup)
    else:
        dataset_dir = os.path.abspath(os.path.expanduser(dataset_dir or os.path.join(_dataset_zoo_dir(), name)))
        if not _is_downloaded(dataset_dir):
            raise ValueError("zoo dataset %r is not downloaded in %s (download_if_necessary=False)"
                             % (name, dataset_dir))

    if fo.dataset_exists(dataset_name):
        logger.info("Deleting existing dataset '%s'", dataset_name)
        fo.delete_dataset(dataset_name)
    logger.info("Loading '%s'", name)
    dataset = import_fiftyone_dataset(dataset_dir, dataset_name, max_samples=max_samples)
    logger.info("Dataset '%s' created", dataset_name)
    return dataset


__all__ = [
    "DATASET_ZOO_URL_ENV",
    "Model",
    "download_zoo_dataset",
    "import_fiftyone_dataset",
    "list_zoo_datasets",
    "list_zoo_models",
    "load_zoo_dataset",
    "load_zoo_model",
]
