"""Effect sizes as metafor's ``escalc()`` computes them, and the inverse transforms (``transf.*``).

Why a module of its own: every model, plot and sensitivity analysis starts from (yi, vi), and the
back-transform of a pooled estimate depends on the measure (and, for Freeman-Tukey, on the study
sizes), so both directions live together and follow metafor's definitions exactly.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from meta.errors import MetaError

PROPORTION_MEASURES = ("PR", "PLN", "PLO", "PAS", "PFT")
RATE_MEASURES = ("IR", "IRLN", "IRS", "IRFT")
GENERIC_MEASURES = ("GEN",)
MEASURES = PROPORTION_MEASURES + RATE_MEASURES + GENERIC_MEASURES

#: measures where metafor's escalc adds 1/2 (add=1/2, to="only0") to zero (or full) cells
_ADJUSTED = {"PR", "PLN", "PLO", "IR", "IRLN"}
ADD = 0.5


@dataclass
class Effects:
    """Per-study effect sizes with the counts they came from and the studies that got 1/2 added."""

    yi: np.ndarray
    vi: np.ndarray
    measure: str
    study: list[str]
    events: np.ndarray | None = None
    total: np.ndarray | None = None
    person_time: np.ndarray | None = None
    added: list[int] = field(default_factory=list)

    @property
    def k(self) -> int:
        return int(self.yi.size)

    @property
    def kind(self) -> str:
        """``proportion``, ``rate`` or ``generic`` — what the back-transform returns."""
        return measure_kind(self.measure)

    def note(self) -> str:
        """Human note on the zero-cell correction (empty when none was applied)."""
        if not self.added:
            return ""
        names = ", ".join(self.study[i] for i in self.added)
        return f"added 1/2 to the cells of {len(self.added)} stud{'y' if len(self.added) == 1 else 'ies'} ({names})"


def measure_kind(measure: str) -> str:
    """Classify a measure name; raises MetaError for names metafor would not know here."""
    m = normalise_measure(measure)
    if m in PROPORTION_MEASURES:
        return "proportion"
    if m in RATE_MEASURES:
        return "rate"
    return "generic"


def normalise_measure(measure: str | None) -> str:
    if measure is None:
        return "GEN"
    m = str(measure).strip().upper()
    if m not in MEASURES:
        raise MetaError(f"unknown measure {measure!r}; use one of {', '.join(MEASURES)}")
    return m


def _as_numeric(name: str, values, study: list[str] | None) -> np.ndarray:
    """Coerce a column to float, naming the first row that is missing or not a number."""
    arr = np.asarray(values, dtype=object).ravel()
    out = np.empty(arr.size, dtype=float)
    for i, v in enumerate(arr):
        label = _row_label(i, study)
        if v is None or (isinstance(v, str) and not v.strip()):
            raise MetaError(f"{label}: {name} is missing")
        try:
            x = float(v)
        except (TypeError, ValueError):
            raise MetaError(f"{label}: {name} {v!r} is not a number") from None
        if x != x:
            raise MetaError(f"{label}: {name} is missing")
        if not np.isfinite(x):
            raise MetaError(f"{label}: {name} is not finite")
        out[i] = x
    return out


def _row_label(i: int, study: list[str] | None) -> str:
    if study is not None and i < len(study) and study[i] not in (None, ""):
        return f"row {i + 1} ({study[i]})"
    return f"row {i + 1}"


def _check_counts(events: np.ndarray, study: list[str]) -> None:
    for i, x in enumerate(events):
        if x < 0:
            raise MetaError(f"{_row_label(i, study)}: events {x:g} is negative")
        if x != np.floor(x):
            raise MetaError(f"{_row_label(i, study)}: events {x:g} is not a whole number")


def escalc(
    measure: str | None,
    events=None,
    total=None,
    person_time=None,
    yi=None,
    vi=None,
    study: Sequence[str] | None = None,
) -> Effects:
    """Compute (yi, vi) as metafor's ``escalc()`` with its defaults (add=1/2, to="only0", vtype="LS").

    Proportions: ``events``/``total``; rates: ``events``/``person_time``; ``measure=None`` or
    ``"GEN"``: ``yi``/``vi`` as given. Bad rows raise :class:`MetaError` naming the row.
    """
    m = normalise_measure(measure)
    if m == "GEN":
        if yi is None or vi is None:
            raise MetaError("effect sizes need both yi and vi columns")
        n = len(np.atleast_1d(yi))
        labels = _labels(study, n)
        y = _as_numeric("yi", yi, labels)
        v = _as_numeric("vi", vi, labels)
        if v.size != y.size:
            raise MetaError(f"yi has {y.size} values but vi has {v.size}")
        _need_rows(y.size)
        for i, x in enumerate(v):
            if x <= 0:
                raise MetaError(f"{_row_label(i, labels)}: vi {x:g} must be > 0")
        return Effects(yi=y, vi=v, measure=m, study=labels)

    if events is None:
        raise MetaError(f"measure {m} needs an events column")
    n = len(np.atleast_1d(events))
    labels = _labels(study, n)
    xi = _as_numeric("events", events, labels)
    _need_rows(xi.size)
    _check_counts(xi, labels)
    if m in PROPORTION_MEASURES:
        if total is None:
            raise MetaError(f"measure {m} is a proportion and needs a total column"
                            + (" (the data has person_time: use IR, IRLN, IRS or IRFT)" if person_time is not None else ""))
        ni = _as_numeric("total", total, labels)
        _same_length(xi, ni, "total")
        for i in range(ni.size):
            if ni[i] <= 0:
                raise MetaError(f"{_row_label(i, labels)}: total {ni[i]:g} must be > 0")
            if ni[i] != np.floor(ni[i]):
                raise MetaError(f"{_row_label(i, labels)}: total {ni[i]:g} is not a whole number")
            if xi[i] > ni[i]:
                raise MetaError(f"{_row_label(i, labels)}: events {xi[i]:g} exceed total {ni[i]:g}")
        y, v, added = _proportion(m, xi, ni)
        return Effects(yi=y, vi=v, measure=m, study=labels, events=xi, total=ni, added=added)

    if person_time is None:
        raise MetaError(f"measure {m} is a rate and needs a person_time column"
                        + (" (the data has total: use PR, PLN, PLO, PAS or PFT)" if total is not None else ""))
    ti = _as_numeric("person_time", person_time, labels)
    _same_length(xi, ti, "person_time")
    for i in range(ti.size):
        if ti[i] <= 0:
            raise MetaError(f"{_row_label(i, labels)}: person_time {ti[i]:g} must be > 0")
    y, v, added = _rate(m, xi, ti)
    return Effects(yi=y, vi=v, measure=m, study=labels, events=xi, person_time=ti, added=added)


def _labels(study, n: int) -> list[str]:
    if study is None:
        return [str(i + 1) for i in range(n)]
    labels = [("" if s is None else str(s)) for s in study]
    if len(labels) != n:
        raise MetaError(f"{len(labels)} study labels for {n} rows")
    return [s if s else str(i + 1) for i, s in enumerate(labels)]


def _need_rows(n: int) -> None:
    if n < 1:
        raise MetaError("no studies to pool (need at least 1 row)")


def _same_length(a: np.ndarray, b: np.ndarray, name: str) -> None:
    if a.size != b.size:
        raise MetaError(f"events has {a.size} values but {name} has {b.size}")


def _proportion(m: str, xi: np.ndarray, ni: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[int]]:
    xi = xi.astype(float).copy()
    mi = ni - xi
    added: list[int] = []
    if m in _ADJUSTED:
        zero = (xi == 0) | (mi == 0)
        added = [int(i) for i in np.flatnonzero(zero)]
        xi[zero] += ADD
        mi[zero] += ADD
    n = xi + mi
    p = xi / n
    with np.errstate(divide="ignore", invalid="ignore"):
        if m == "PR":
            return p, p * (1.0 - p) / n, added
        if m == "PLN":
            return np.log(p), 1.0 / xi - 1.0 / n, added
        if m == "PLO":
            return np.log(xi / mi), 1.0 / xi + 1.0 / mi, added
        if m == "PAS":
            return np.arcsin(np.sqrt(p)), 1.0 / (4.0 * n), added
        # PFT: metafor's Freeman-Tukey is half the classical sum
        y = 0.5 * (np.arcsin(np.sqrt(xi / (n + 1.0))) + np.arcsin(np.sqrt((xi + 1.0) / (n + 1.0))))
        return y, 1.0 / (4.0 * n + 2.0), added


def _rate(m: str, xi: np.ndarray, ti: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[int]]:
    xi = xi.astype(float).copy()
    added: list[int] = []
    if m in _ADJUSTED:
        zero = xi == 0
        added = [int(i) for i in np.flatnonzero(zero)]
        xi[zero] += ADD
    with np.errstate(divide="ignore", invalid="ignore"):
        if m == "IR":
            return xi / ti, xi / ti**2, added
        if m == "IRLN":
            return np.log(xi / ti), 1.0 / xi, added
        if m == "IRS":
            return np.sqrt(xi / ti), 1.0 / (4.0 * ti), added
        return 0.5 * (np.sqrt(xi / ti) + np.sqrt((xi + 1.0) / ti)), 1.0 / (4.0 * ti), added


# ----------------------------------------------------------------------------- back-transforms

def _pft(p, n):
    """metafor ``transf.pft``: a proportion to its Freeman-Tukey value for size n."""
    x = p * n
    return 0.5 * (np.arcsin(np.sqrt(x / (n + 1.0))) + np.arcsin(np.sqrt((x + 1.0) / (n + 1.0))))


def _ipft(x, n):
    """metafor ``transf.ipft`` (Miller 1978), clipped to [0, 1] outside the attainable range."""
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.sin(2.0 * x)
        z = 0.5 * (1.0 - np.sign(np.cos(2.0 * x)) * np.sqrt(1.0 - (s + (s - 1.0 / s) / n) ** 2))
    z = np.where(x > _pft(1.0, n), 1.0, z)
    z = np.where(x < _pft(0.0, n), 0.0, z)
    return z


def _irft(r, t):
    x = r * t
    return 0.5 * (np.sqrt(x / t) + np.sqrt((x + 1.0) / t))


def _iirft(x, t):
    """metafor ``transf.iirft``: inverse of the rate Freeman-Tukey transform for time t."""
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (1.0 / t - 8.0 * x**2 + 16.0 * t * x**4) / (16.0 * x**2 * t)
    z = np.where(x < _irft(0.0, t), 0.0, z)
    z = np.where(z <= np.finfo(float).eps, 0.0, z)
    return z


def harmonic_mean(values) -> float:
    v = np.asarray(values, dtype=float)
    return float(1.0 / np.mean(1.0 / v))


def back_transform(measure: str | None, x, *, total=None, person_time=None, per_study: bool = False):
    """Map values on the analysis scale back to a proportion / rate, as metafor's ``transf.*``.

    ``total`` (PFT) and ``person_time`` (IRFT): a scalar is used as is; an array is reduced to its
    harmonic mean (pooled values, ``transf.ipft.hm``) unless ``per_study=True``, when each value of
    ``x`` uses its own study's n or time. Other measures ignore them. Returns a float array shaped
    like ``x`` (a 0-d array for a scalar); ``None``/NaN inputs stay NaN.
    """
    m = normalise_measure(measure)
    arr = np.asarray(x, dtype=float)
    if m in ("PR", "IR", "GEN"):
        return arr.copy()
    if m == "PLO":
        with np.errstate(over="ignore"):
            return 1.0 / (1.0 + np.exp(-arr))
    if m in ("PLN", "IRLN"):
        with np.errstate(over="ignore"):
            return np.exp(arr)
    if m == "PAS":
        return np.where(arr < 0, 0.0, np.where(arr > np.arcsin(1.0), 1.0, np.sin(arr) ** 2))
    if m == "IRS":
        return np.where(arr < 0, 0.0, arr * arr)
    size = total if m == "PFT" else person_time
    if size is None:
        raise MetaError(f"back-transforming {m} needs {'total' if m == 'PFT' else 'person_time'}")
    s = np.asarray(size, dtype=float)
    if s.ndim > 0 and not per_study:
        s = np.float64(harmonic_mean(s))
    return _ipft(arr, s) if m == "PFT" else _iirft(arr, s)


def subset(effects: Effects, rows) -> Effects:
    """The effects of some studies only (e.g. one subgroup); ``added`` is renumbered."""
    idx = np.asarray(rows, dtype=int)
    where = {int(old): new for new, old in enumerate(idx)}

    def pick(a):
        return None if a is None else np.asarray(a)[idx]

    return Effects(yi=effects.yi[idx], vi=effects.vi[idx], measure=effects.measure,
                   study=[effects.study[i] for i in idx], events=pick(effects.events), total=pick(effects.total),
                   person_time=pick(effects.person_time), added=[where[i] for i in effects.added if i in where])
