"""Builds the glnn Python package (python/glnn over the C extension glnn._glnn) for `pip install --no-build-isolation .`.

The C library is built first by CMake (target glnn_static, in build-pip/ at the repository root, so the
embedded shaders are generated exactly as for the CMake build); the extension (python/src/*.c) is then
compiled by setuptools and linked with it.  Needs cmake, a C compiler, pkg-config and the development
packages of EGL, GLESv2, libpng and libjpeg, plus numpy for the interpreter running pip.
"""
import glob
import os
import shlex
import subprocess

import numpy
from setuptools import Extension, find_packages, setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.join(ROOT, "build-pip")
os.makedirs(BUILD, exist_ok=True)


def system_libs():
    try:
        out = subprocess.run(["pkg-config", "--libs", "egl", "glesv2", "libpng", "libjpeg"], check=True,
                             capture_output=True, text=True).stdout
        libs = [a[2:] for a in shlex.split(out) if a.startswith("-l")]
        dirs = [a[2:] for a in shlex.split(out) if a.startswith("-L")]
    except (OSError, subprocess.CalledProcessError):
        libs, dirs = ["EGL", "GLESv2", "png", "jpeg"], []
    return libs + ["m", "pthread"], dirs


class BuildWithCMake(build_ext):
    """Builds libglnn.a with CMake, then the extension against it."""

    def build_extensions(self):
        cmake_dir = os.path.join(BUILD, "cmake")
        os.makedirs(cmake_dir, exist_ok=True)
        subprocess.check_call(["cmake", "-S", ROOT, "-B", cmake_dir, "-DCMAKE_BUILD_TYPE=Release",
                               "-DGLNN_BUILD_TESTS=OFF", "-DGLNN_BUILD_PYTHON=OFF"])
        subprocess.check_call(["cmake", "--build", cmake_dir, "--target", "glnn_static", "--parallel",
                               str(max(1, min(4, os.cpu_count() or 1)))])
        static = os.path.join(cmake_dir, "libglnn.a")
        for ext in self.extensions:
            ext.extra_objects = [static] + list(ext.extra_objects or [])
        super().build_extensions()


libraries, library_dirs = system_libs()

setup(
    ext_modules=[
        Extension(
            "glnn._glnn",
            sources=sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "python", "src", "*.c"))),
            include_dirs=[os.path.join(ROOT, "include"), os.path.join(ROOT, "python", "src"), numpy.get_include()],
            define_macros=[("_POSIX_C_SOURCE", "200809L")],
            extra_compile_args=["-std=c11", "-Wno-missing-field-initializers"],
            libraries=libraries,
            library_dirs=library_dirs,
        )
    ],
    cmdclass={"build_ext": BuildWithCMake},
    packages=find_packages("python", exclude=["tests", "tests.*"]),
    package_dir={"": "python"},
    package_data={"glnn": ["*.pyi", "py.typed"]},
    options={"build": {"build_base": BUILD}, "egg_info": {"egg_base": BUILD}},
)
