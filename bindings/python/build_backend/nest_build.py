# SPDX-License-Identifier: MIT
"""A PEP 517 build backend for the libnest binding, standard library only
(pip install works offline, without setuptools). It generates
libnest/_constants.py from the headers of the installed libnest, found
through LIBNEST_INCLUDE_DIR, pkg-config's includedir, or /usr/include,
and packs the pure-Python package into a wheel."""
import base64
import hashlib
import io
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile

NAME, VERSION = "libnest", "0.1.0"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TAG = "py3-none-any"
DIST_INFO = f"{NAME}-{VERSION}.dist-info"
METADATA = f"""Metadata-Version: 2.1
Name: {NAME}
Version: {VERSION}
Summary: Python binding of libnest (nested VMX/SVM checks, nested state, capabilities)
License: MIT
Requires-Python: >=3.7
"""


def _include_dir():
    cands = [os.environ.get("LIBNEST_INCLUDE_DIR")]
    try:
        cands.append(subprocess.run(["pkg-config", "--variable=includedir", "libnest"],
                                    check=True, capture_output=True, text=True).stdout.strip())
    except (OSError, subprocess.CalledProcessError):
        pass
    cands.append("/usr/include")
    for d in cands:
        if d and os.path.isfile(os.path.join(d, "nest", "base.h")):
            return d
    sys.exit("libnest: no installed headers (nest/base.h): install libnest (and its "
             "development files) or set LIBNEST_INCLUDE_DIR")


def _constants():
    sys.path.insert(0, ROOT)
    try:
        import gen_constants
    finally:
        sys.path.pop(0)
    out = tempfile.NamedTemporaryFile(suffix=".py", delete=False)
    out.close()
    gen_constants.main(_include_dir(), out.name)
    with open(out.name, "rb") as f:
        data = f.read()
    os.unlink(out.name)
    return data


def _files():
    pkg = os.path.join(ROOT, "libnest")
    files = {}
    for name in sorted(os.listdir(pkg)):
        if name.endswith(".py") and name != "_constants.py":
            with open(os.path.join(pkg, name), "rb") as f:
                files[f"libnest/{name}"] = f.read()
    files["libnest/_constants.py"] = _constants()
    return files


def _record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    d = os.path.join(metadata_directory, DIST_INFO)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "METADATA"), "w", encoding="utf-8") as f:
        f.write(METADATA)
    return DIST_INFO


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    files = _files()
    files[f"{DIST_INFO}/METADATA"] = METADATA.encode()
    files[f"{DIST_INFO}/WHEEL"] = (f"Wheel-Version: 1.0\nGenerator: nest_build\n"
                                   f"Root-Is-Purelib: true\nTag: {TAG}\n").encode()
    record = [_record_line(p, d) for p, d in files.items()] + [f"{DIST_INFO}/RECORD,,"]
    files[f"{DIST_INFO}/RECORD"] = ("\n".join(record) + "\n").encode()
    name = f"{NAME}-{VERSION}-{TAG}.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w",
                         zipfile.ZIP_DEFLATED) as z:
        for path, data in files.items():
            z.writestr(zipfile.ZipInfo(path, date_time=(2026, 1, 1, 0, 0, 0)), data)
    return name


def build_sdist(sdist_directory, config_settings=None):
    base = f"{NAME}-{VERSION}"
    name = f"{base}.tar.gz"
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz") as t:
        for rel in ("pyproject.toml", "gen_constants.py", "build_backend/nest_build.py",
                    "test_libnest.py"):
            t.add(os.path.join(ROOT, rel), f"{base}/{rel}")
        for f in sorted(os.listdir(os.path.join(ROOT, "libnest"))):
            if f.endswith(".py") and f != "_constants.py":
                t.add(os.path.join(ROOT, "libnest", f), f"{base}/libnest/{f}")
        info = tarfile.TarInfo(f"{base}/PKG-INFO")
        data = METADATA.encode()
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    return name
