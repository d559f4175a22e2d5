"""pdfium calls made thousands of times per page, declared for speed.

pypdfium2's raw bindings convert each argument through its declared pointer type on every
call, and a Python loop around them costs more than pdfium's own work. Here a page's calls
are driven by ``map`` (the loop runs in C) through prototypes that take no argument
conversion at all: handles and output slots are passed as ready-made ``byref`` objects,
which ctypes hands to C as they are. The calls also keep the GIL (``PYFUNCTYPE``): they
are short and never call back into Python, and releasing and retaking the GIL around
each one cost a fifth of the call. A char box costs ~180 ns instead of ~500 ns (of which
pdfium's own work is well under 100 ns); the values are the same.
"""
from __future__ import annotations

import ctypes
import threading
from collections import deque
from itertools import compress, repeat

import numpy as np
import pypdfium2.raw as pdfium_c

_INT, _PTR = ctypes.c_int, ctypes.c_void_p
_byref = ctypes.byref


def _proto(func, restype, *argtypes):
    """``func`` called without releasing the GIL (see module doc)."""
    return ctypes.PYFUNCTYPE(restype, *argtypes)(ctypes.cast(func, _PTR).value)


# no argtypes: arguments must be Python ints (C int) or ctypes objects (passed as they are)
_loose_char_box = _proto(pdfium_c.FPDFText_GetLooseCharBox, None)  # (success: see loose_char_boxes)
_get_object = _proto(pdfium_c.FPDFPage_GetObject, _PTR)
_object_type = _proto(pdfium_c.FPDFPageObj_GetType, _INT, _PTR)  # takes the int addresses above
_count_segments = _proto(pdfium_c.FPDFPath_CountSegments, _INT, _PTR)
_get_bounds = _proto(pdfium_c.FPDFPageObj_GetBounds, _INT)


def address(handle) -> int:
    """The integer address of a pdfium handle (a ctypes pointer)."""
    return ctypes.cast(handle, _PTR).value or 0


def _handle(addr: int):
    """An argument that ctypes passes to C as the pointer ``addr`` without converting it on
    each call (a ``byref`` of a one-byte view at that address: nothing is read there)."""
    return _byref(ctypes.c_char.from_address(addr))


class _Slots(threading.local):
    """Per thread: one float32 buffer and a ``byref`` per 16-byte slot of it, kept between
    pages (building the ``byref`` objects costs a third of the calls they serve)."""

    def __init__(self) -> None:
        self.size = 0
        self.buf: object = None
        self.refs: list = []


_SLOTS = _Slots()
# a signalling NaN: float arithmetic never makes one and pdfium's numbers come from parsed
# decimals, so no box pdfium writes starts with these bits
_UNSET = 0x7FA00BAD
_KEEP = 1 << 15  # slots kept per thread (~3 MB); a page with more chars builds its own


def _out_slots(k: int) -> tuple[object, list]:
    """A float32 buffer of ``4 * k`` values and the ``byref`` of each 16-byte slot."""
    s = _SLOTS
    if k > s.size:
        size = max(k, min(2 * s.size, _KEEP), 4096)
        buf = (ctypes.c_float * (4 * size))()
        refs = list(map(_byref, repeat(buf, size), range(0, 16 * size, 16)))
        if size > _KEEP:
            return buf, refs
        s.size, s.buf, s.refs = size, buf, refs
    return s.buf, s.refs


def loose_char_boxes(textpage_raw, idx: np.ndarray) -> np.ndarray:
    """``(len(idx), 4)`` float64 loose boxes ``left, top, right, bottom`` (PDF user space).

    Same values as calling ``FPDFText_GetLooseCharBox`` char by char into one reused
    ``FS_RECTF``: a char pdfium cannot box repeats the previous char's box (zeros first).
    """
    k = len(idx)
    if not k:
        return np.zeros((0, 4))
    buf, refs = _out_slots(k)
    # pdfium writes a box only when it returns true: a slot still holding _UNSET was not
    # written (telling it so is cheaper than having ctypes convert each call's result)
    lefts = np.frombuffer(buf, np.uint32, 4 * k)[::4]
    lefts[:] = _UNSET
    deque(map(_loose_char_box, repeat(_handle(address(textpage_raw)), k), idx.tolist(), refs), 0)  # k calls
    failed = np.flatnonzero(lefts == _UNSET).tolist()
    for j in failed:
        lefts[j] = 0  # (no NaN to cast)
    out = np.frombuffer(buf, np.float32, 4 * k).reshape(k, 4).astype(float)  # a copy: the buffer is reused
    for j in failed:
        out[j] = out[j - 1] if j else 0.0
    return out


def object_types(page_raw) -> tuple[list[int], list[int]]:
    """Addresses and types (``FPDF_PAGEOBJ_*``) of a page's top-level objects."""
    n = pdfium_c.FPDFPage_CountObjects(page_raw)
    objs = list(map(_get_object, repeat(_handle(address(page_raw)), n), range(n)))
    return objs, list(map(_object_type, objs))


def small_path_bounds(page_raw, max_segments: int) -> list[tuple[float, float, float, float]]:
    """Bounds ``left, bottom, right, top`` of the page's top-level path objects with at most
    ``max_segments`` segments, in page order, skipping those pdfium gives no bounds for (the
    float32 values ``FPDFPageObj_GetBounds`` writes, as Python floats).

    ``FPDFPath_CountSegments`` is -1 for an object that is not a path, so one call per
    object tells both (type and size) instead of ``FPDFPageObj_GetType`` and then it.
    """
    n = pdfium_c.FPDFPage_CountObjects(page_raw)
    objs = list(map(_get_object, repeat(_handle(address(page_raw)), n), range(n)))
    small = range(max_segments + 1).__contains__  # (a C test per object, no Python loop)
    objs = list(compress(objs, map(small, map(_count_segments, objs))))
    k = len(objs)
    if not k:
        return []
    buf = (ctypes.c_float * (4 * k))()
    ok = list(map(_get_bounds, map(_handle, objs),
                  map(_byref, repeat(buf, k), range(0, 16 * k, 16)),
                  map(_byref, repeat(buf, k), range(4, 16 * k, 16)),
                  map(_byref, repeat(buf, k), range(8, 16 * k, 16)),
                  map(_byref, repeat(buf, k), range(12, 16 * k, 16))))
    vals = np.frombuffer(buf, np.float32).tolist()
    quads = list(zip(vals[0::4], vals[1::4], vals[2::4], vals[3::4]))
    return quads if all(ok) else list(compress(quads, ok))
