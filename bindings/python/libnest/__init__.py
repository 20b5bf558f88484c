# SPDX-License-Identifier: MIT
"""ctypes binding of libnest's pure, exported APIs.

Loads the shared library named by the NEST_LIBRARY environment variable, or
the installed libnest.so.0. Constants come from _constants.py, generated
from the C headers at build time.
"""
import ctypes
import ctypes.util
import os

from ._constants import *  # noqa: F401,F403
from ._constants import STATUS_TEXT, VERSION

__all__ = ["Error", "lib", "version", "strerror", "VmcsField", "vmcs_field",
           "vmcs_fields"]


def _load():
    path = os.environ.get("NEST_LIBRARY") or ctypes.util.find_library("nest") or "libnest.so.0"
    return ctypes.CDLL(path)


lib = _load()


class Error(Exception):
    """A libnest status other than NEST_OK."""

    def __init__(self, status):
        super().__init__(f"{STATUS_TEXT.get(status, 'unknown status')} ({status})")
        self.status = status


class _Field(ctypes.Structure):
    # IMPORTANT: layout of struct nest_vmcs_field (include/nest/vmcs.h).
    _fields_ = [("name", ctypes.c_char_p), ("encoding", ctypes.c_uint32),
                ("offset", ctypes.c_uint16), ("width", ctypes.c_uint8),
                ("type", ctypes.c_uint8), ("flags", ctypes.c_uint32),
                ("reserved", ctypes.c_uint32)]


lib.nest_version.restype = ctypes.c_uint32
lib.nest_strerror.restype = ctypes.c_char_p
lib.nest_strerror.argtypes = [ctypes.c_int]
for _fn, _arg in (("nest_vmcs_field_by_encoding", ctypes.c_uint32),
                  ("nest_vmcs_field_by_name", ctypes.c_char_p),
                  ("nest_vmcs_field_at", ctypes.c_size_t)):
    getattr(lib, _fn).restype = ctypes.POINTER(_Field)
    getattr(lib, _fn).argtypes = [_arg]
lib.nest_vmcs_field_count.restype = ctypes.c_size_t


def version():
    """The library's (major, minor, patch)."""
    v = lib.nest_version()
    return (v >> 16, (v >> 8) & 0xff, v & 0xff)


def strerror(status):
    """Text of a status code."""
    return lib.nest_strerror(status).decode()


class VmcsField:
    """One row of the VMCS field table."""
    WIDTHS = {0: 16, 1: 64, 2: 32, 3: "natural"}
    TYPES = {0: "control", 1: "read-only", 2: "guest", 3: "host"}

    def __init__(self, raw):
        self.name = raw.name.decode()
        self.encoding = raw.encoding
        self.offset = raw.offset
        self.width = self.WIDTHS[raw.width]
        self.type = self.TYPES[raw.type]
        self.flags = raw.flags

    def __repr__(self):
        return f"VmcsField({self.name}, {self.encoding:#06x}, {self.width}, {self.type})"


def vmcs_field(key):
    """Look a field up by name (str) or encoding (int); None if unknown."""
    if isinstance(key, str):
        p = lib.nest_vmcs_field_by_name(key.encode())
    else:
        p = lib.nest_vmcs_field_by_encoding(key)
    return VmcsField(p.contents) if p else None


def vmcs_fields():
    """Every field, in table order."""
    return [VmcsField(lib.nest_vmcs_field_at(i).contents)
            for i in range(lib.nest_vmcs_field_count())]


if version() != VERSION:
    raise ImportError(f"libnest {version()} does not match the binding's headers {VERSION}")
