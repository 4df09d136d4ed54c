"""Builds the `ortformers` package: the pybind11 module comes from the repository's CMake build (the same build
directory as the library, configured with -DORTFORMERS_BUILD_PYTHON=ON), then is copied next to the Python files.

    /usr/bin/python3 -m venv --system-site-packages build/venv
    build/venv/bin/pip install ./python --no-build-isolation

Environment: ORTFORMERS_BUILD_DIR (default <repo>/build), ORTFORMERS_SOURCE_DIR (default: the parent of this
folder), CMAKE_BUILD_PARALLEL_LEVEL (default: all cores)."""
import os
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.abspath(os.environ.get("ORTFORMERS_SOURCE_DIR", os.path.join(HERE, "..")))
BUILD_DIR = os.path.abspath(os.environ.get("ORTFORMERS_BUILD_DIR", os.path.join(SOURCE_DIR, "build")))


class CMakeExtension(Extension):
    def __init__(self, name):
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        if not os.path.isfile(os.path.join(SOURCE_DIR, "CMakeLists.txt")):
            raise RuntimeError(f"ortformers sources not found at {SOURCE_DIR} (set ORTFORMERS_SOURCE_DIR)")
        # The base interpreter (a venv's python shares its headers and ABI); the module works in both.
        python = os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable)
        configure = ["cmake", "-S", SOURCE_DIR, "-B", BUILD_DIR, "-DORTFORMERS_BUILD_PYTHON=ON",
                     f"-DPYTHON_EXECUTABLE={python}"]
        if not os.path.isfile(os.path.join(BUILD_DIR, "CMakeCache.txt")):
            configure += ["-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release"]  # ccache: CMakeLists' ORTFORMERS_CCACHE=AUTO
        subprocess.run(configure, check=True, stdout=subprocess.DEVNULL)
        build = ["cmake", "--build", BUILD_DIR, "--target", "_ortformers"]
        if "CMAKE_BUILD_PARALLEL_LEVEL" not in os.environ:
            build += ["-j", str(os.cpu_count() or 2)]
        subprocess.run(build, check=True)
        built_dir = os.path.join(BUILD_DIR, "python", "ortformers")
        name = os.path.basename(self.get_ext_filename(ext.name))
        built = os.path.join(built_dir, name)
        if not os.path.isfile(built):
            raise RuntimeError(f"the CMake build did not produce {built} (interpreter ABI mismatch? "
                               f"found: {os.listdir(built_dir) if os.path.isdir(built_dir) else 'nothing'})")
        target = self.get_ext_fullpath(ext.name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(built, target)


# setuptools' own build and egg-info folders go into the CMake build folder, not the source tree.
SETUPTOOLS_DIR = os.path.join(BUILD_DIR, "python", "setuptools")
os.makedirs(SETUPTOOLS_DIR, exist_ok=True)

setup(
    name="ortformers",
    version="0.1.0",
    description="Hugging Face transformer models on ONNX Runtime: optimum's ORTModel classes, transformers' "
                "AutoTokenizer and pipelines, without torch",
    packages=["ortformers"],
    ext_modules=[CMakeExtension("ortformers._ortformers")],
    cmdclass={"build_ext": CMakeBuild},
    python_requires=">=3.9",
    install_requires=["numpy"],
    zip_safe=False,
    options={"build": {"build_base": SETUPTOOLS_DIR}, "egg_info": {"egg_base": SETUPTOOLS_DIR}},
)
