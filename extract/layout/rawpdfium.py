"""pdfium calls made thousands of times per page, declared for speed.

pypdfium2's raw bindings convert each argument through its declared pointer type on every
call, and a Python loop around them costs more than pdfium's own work. Re-declared here
with plain integer addresses, a page's calls are driven by ``map`` (the loop runs in C):
about half the per-character and per-object cost, the same values.
"""
from __future__ import annotations

import ctypes
from itertools import repeat

import numpy as np
import pypdfium2.raw as pdfium_c

_INT, _PTR = ctypes.c_int, ctypes.c_void_p


def _proto(func, restype, *argtypes):
    return ctypes.CFUNCTYPE(restype, *argtypes)(ctypes.cast(func, _PTR).value)


_loose_char_box = _proto(pdfium_c.FPDFText_GetLooseCharBox, _INT, _PTR, _INT, _PTR)
_get_object = _proto(pdfium_c.FPDFPage_GetObject, _PTR, _PTR, _INT)
_object_type = _proto(pdfium_c.FPDFPageObj_GetType, _INT, _PTR)


def address(handle) -> int:
    """The integer address of a pdfium handle (a ctypes pointer)."""
    return ctypes.cast(handle, _PTR).value or 0


def loose_char_boxes(textpage_raw, idx: np.ndarray) -> np.ndarray:
    """``(len(idx), 4)`` float64 loose boxes ``left, top, right, bottom`` (PDF user space).

    Same values as calling ``FPDFText_GetLooseCharBox`` char by char into one reused
    ``FS_RECTF``: a char pdfium cannot box repeats the previous char's box (zeros first).
    """
    k = len(idx)
    out = np.zeros((k, 4), np.float32)  # FS_RECTF: four floats
    if not k:
        return out.astype(float)
    base, tp = out.ctypes.data, address(textpage_raw)
    ok = list(map(_loose_char_box, repeat(tp, k), idx.tolist(), range(base, base + 16 * k, 16)))
    if not all(ok):
        for j, good in enumerate(ok):
            if not good:
                out[j] = out[j - 1] if j else 0.0
    return out.astype(float)


def object_types(page_raw) -> tuple[list[int], list[int]]:
    """Addresses and types (``FPDF_PAGEOBJ_*``) of a page's top-level objects."""
    n = pdfium_c.FPDFPage_CountObjects(page_raw)
    objs = list(map(_get_object, repeat(address(page_raw), n), range(n)))
    return objs, list(map(_object_type, objs))
