"""Importing data sets from disk: FiftyOne's ``FiftyOneDataset`` export
format (what the zoo's quickstart archive holds), and safe unpacking of zip
archives.

The reading itself is C++ (``fo._fo.import_fiftyone_dataset``, see
python/src/fiftyone_import.h): it builds fo samples directly, with their
image metadata, and adds them in one transaction.
"""

import os
import stat
import warnings
import zipfile

from fo import _fo


def import_fiftyone_dataset(dataset_dir, name=None, max_samples=None):
    """Imports a directory written by FiftyOne's
    ``dataset.export(dataset_dir, dataset_type=fo.types.FiftyOneDataset)``
    (``metadata.json``, ``samples.json``, ``data/``) as a new dataset.

    Kept: filepaths (relative ones made absolute against ``dataset_dir``),
    tags, metadata width/height, ``Detections`` fields with their labels,
    boxes, confidences and attributes, and scalar or list fields such as
    ``uniqueness``. New sample and label ids are assigned. What cannot be
    stored (other label types, dates, binary data) is left out with a
    warning. Raises ``ValueError`` when the directory is not such an export
    or the name is taken; a failed import leaves no dataset behind.
    """
    if name is None:
        name = os.path.basename(os.path.normpath(dataset_dir))
    result = _fo.import_fiftyone_dataset(os.fspath(dataset_dir), name, max_samples=max_samples)
    if result["skipped"]:
        warnings.warn("importing %s into dataset %r: not imported (fo cannot store these): %s"
                      % (dataset_dir, name, "; ".join(result["skipped"])), stacklevel=2)
    return result["dataset"]


def check_zip_member(name, dest):
    """Raises ValueError unless the archive member ``name`` lands inside
    ``dest`` when extracted: no absolute paths, drive letters or ``..``."""
    parts = name.replace("\\", "/").split("/")
    if (name.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0])):
        raise ValueError("unsafe path %r in the archive: it would be extracted outside %s" % (name, dest))
    root = os.path.realpath(dest)
    target = os.path.realpath(os.path.join(root, name))
    if target != root and not target.startswith(root + os.sep):
        raise ValueError("unsafe path %r in the archive: it would be extracted outside %s" % (name, dest))


def extract_zip(archive, dest):
    """Extracts the zip file ``archive`` into the directory ``dest``, after
    checking every member name with :func:`check_zip_member` (nothing is
    extracted if one is unsafe). Symbolic links are not allowed. Raises
    ``zipfile.BadZipFile`` for a file that is not a zip archive, and
    ``zipfile.BadZipFile``, ``zlib.error`` or ``EOFError`` for corrupt or
    truncated member data."""
    with zipfile.ZipFile(archive) as zf:
        members = zf.infolist()
        for m in members:
            check_zip_member(m.filename, dest)
            if stat.S_ISLNK(m.external_attr >> 16):
                raise ValueError("the archive member %r is a symbolic link; links are not extracted" % m.filename)
        os.makedirs(dest, exist_ok=True)
        for m in members:
            zf.extract(m, dest)
    return dest


__all__ = ["check_zip_member", "extract_zip", "import_fiftyone_dataset"]
