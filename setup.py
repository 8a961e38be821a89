"""setup.py: the Python package hdrscan (python/), built by the project's CMake (docs/python.md).

`pip install --no-build-isolation --no-index .` from the checkout, in a virtual environment made
with `python3 -m venv --system-site-packages` (Debian 12: the package index is not reachable and
the system Python refuses plain pip installs, PEP 668). build_ext configures the project with
HDRSCAN_PYTHON=ON and HDRSCAN_TESTS=OFF for the interpreter pip runs under, builds the one
target _hdrscan (in build-py/, ccache used when installed) and puts the extension into the
package. Needs the Debian packages of tools/install-deps.sh (pybind11-dev, the C++ libraries).
"""
import os
import re
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))


def project_version():
    with open(os.path.join(ROOT, "CMakeLists.txt"), encoding="utf-8") as f:
        return re.search(r"project\(hdrscan VERSION ([0-9.]+)", f.read()).group(1)


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build = os.path.join(ROOT, "build-py", f"py{sys.version_info[0]}{sys.version_info[1]}")
        args = ["-DCMAKE_BUILD_TYPE=Release", "-DHDRSCAN_PYTHON=ON", "-DHDRSCAN_TESTS=OFF",
                f"-DPython_EXECUTABLE={sys.executable}"]
        if shutil.which("ccache"):
            args.append("-DCMAKE_CXX_COMPILER_LAUNCHER=ccache")
        subprocess.run(["cmake", "-S", ROOT, "-B", build, *args], check=True)
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 1))
        subprocess.run(["cmake", "--build", build, "--target", "_hdrscan", "-j", jobs],
                       check=True)
        built = os.path.join(build, "python", "hdrscan", os.path.basename(self.get_ext_filename(
            ext.name.split(".")[-1])))
        dest = self.get_ext_fullpath(ext.name)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copyfile(built, dest)


setup(
    name="hdrscan",
    version=project_version(),
    description="Email header forensic scanner: the hdrscan engine for Python",
    packages=["hdrscan"],
    package_dir={"": "python"},
    package_data={"hdrscan": ["*.pyi", "py.typed"]},
    ext_modules=[Extension("hdrscan._hdrscan", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
    python_requires=">=3.11",
    zip_safe=False,
)
