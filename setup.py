"""Builds the Python package `fo` (the extension fo._fo plus python/fo/*.py) with CMake.

Driven by pyproject.toml's standard backend, setuptools.build_meta:

    pip install --no-build-isolation .

(no build isolation: that would fetch setuptools from PyPI; Debian's
python3-setuptools and python3-wheel are used instead). scikit-build is not
packaged by Debian 12, so a small build_ext runs CMake itself:

    cmake -S <repo> -B <build dir> -DCMAKE_BUILD_TYPE=Release -DFO_BUILD_PYTHON=ON
          -DFO_BUILD_TESTS=OFF -DFO_BUILD_BENCH=OFF -DFO_PYTHON_WHEEL=ON
          -DPython3_EXECUTABLE=<this interpreter>
    cmake --build <build dir> --target _fo fo_torch fo_imgcodecs --parallel <N>

and copies <build dir>/python/fo/{_fo<EXT_SUFFIX>, libfo.so, libfo_torch.so,
libfo_imgcodecs.so} into the wheel. With FO_PYTHON_WHEEL they are built side
by side and _fo and the plugins find libfo.so through RUNPATH $ORIGIN, so the
installed module does not depend on the build tree. libtorch and OpenCV's
image codecs are loaded only when first needed (the plugins, dlopen'ed).

Environment:
  FO_PIP_BUILD_DIR            where the CMake build directories go (default <repo>/build-pip).
                              Each interpreter gets its own, <cache tag>-<hash of its path>
                              (e.g. cpython-311-8cefa46e), kept between installs so that the
                              next install is incremental. One build directory cannot serve two
                              interpreters: CMake caches the Python it found.
  CMAKE_BUILD_PARALLEL_LEVEL  parallel compile jobs (default 2).
  CMAKE_ARGS                  extra arguments for the CMake configure step.
"""

import contextlib
import fcntl
import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from setuptools import Extension, find_packages, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent


def project_version():
    """The version of CMakeLists.txt's `project(fo VERSION x.y.z ...)`."""
    text = (ROOT / "CMakeLists.txt").read_text()
    m = re.search(r"^\s*project\(\s*fo\s+VERSION\s+([0-9][0-9A-Za-z.]*)", text, re.M)
    if not m:
        raise RuntimeError("CMakeLists.txt has no 'project(fo VERSION ...)'")
    return m.group(1)


def interpreter():
    """The interpreter the extension is built for, symlinks (venvs) resolved:
    a venv and its base interpreter share one build directory."""
    return os.path.realpath(sys.executable)


def build_dir():
    base = os.environ.get("FO_PIP_BUILD_DIR")
    base = Path(base).expanduser().resolve() if base else ROOT / "build-pip"
    digest = hashlib.sha1(interpreter().encode()).hexdigest()[:8]
    return base / ("%s-%s" % (sys.implementation.cache_tag, digest))


@contextlib.contextmanager
def locked(directory):
    """Serialises builds sharing a build directory (two pip runs at once)."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".fo-pip-build.lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


class CMakeExtension(Extension):
    """`target` is the module's CMake target; `libraries_beside` maps the CMake
    targets of the shared libraries it loads from its own directory to their
    file names."""

    def __init__(self, name, target, libraries_beside=None):
        super().__init__(name, sources=[])
        self.target = target
        self.libraries_beside = dict(libraries_beside or {})


class CMakeBuild(build_ext):
    """Builds each CMakeExtension's target in the persistent CMake build dir."""

    def build_extension(self, ext):
        if not isinstance(ext, CMakeExtension):
            return super().build_extension(ext)
        out = build_dir()
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL") or "2"
        configure = [
            "cmake", "-S", str(ROOT), "-B", str(out),
            "-DCMAKE_BUILD_TYPE=Release",
            "-DFO_BUILD_PYTHON=ON", "-DFO_BUILD_TESTS=OFF", "-DFO_BUILD_BENCH=OFF", "-DFO_PYTHON_WHEEL=ON",
            "-DPython3_EXECUTABLE=" + interpreter(),
        ] + shlex.split(os.environ.get("CMAKE_ARGS", ""))
        build = ["cmake", "--build", str(out), "--target", ext.target, *ext.libraries_beside, "--parallel", jobs]
        with locked(out):
            for cmd in (configure, build):
                print("fo: " + shlex.join(cmd), flush=True)
                subprocess.run(cmd, check=True)
            suffix = sysconfig.get_config_var("EXT_SUFFIX")
            built = out / "python" / "fo" / (ext.target + suffix)
            if not built.is_file():
                raise RuntimeError("CMake did not produce %s" % built)
            dest = Path(self.get_ext_fullpath(ext.name))
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(built, dest)
            for file_name in ext.libraries_beside.values():
                lib = built.parent / file_name
                if not lib.is_file():
                    raise RuntimeError("CMake did not produce %s" % lib)
                shutil.copyfile(lib, dest.parent / lib.name)


# setuptools' own scratch space (build/lib..., bdist..., egg-info) goes next to
# the CMake build rather than into the source tree.
_scratch = build_dir() / "setuptools"

setup(
    version=project_version(),
    packages=find_packages(where="python", include=["fo", "fo.*"]),
    package_dir={"": "python"},
    ext_modules=[CMakeExtension("fo._fo", target="_fo",
                                libraries_beside={"fo_lib": "libfo.so", "fo_torch": "libfo_torch.so",
                                                  "fo_imgcodecs": "libfo_imgcodecs.so"})],
    cmdclass={"build_ext": CMakeBuild},
    options={
        "build": {"build_base": str(_scratch)},
        "egg_info": {"egg_base": str(_scratch)},
    },
    zip_safe=False,
)
