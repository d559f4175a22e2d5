"""Many meta-analyses at once (``pool_many``): one per row of NaN-padded 2-D yi/vi arrays.

Why: simulation studies and living reviews refit thousands of small meta-analyses; a Python loop
of single fits spends its time in interpreter overhead. Every estimator here is the same algebra
as :mod:`meta.estimators`, written on row sums (padding gets weight 0), and the iterative ones
advance all unfinished rows together, each row with its own convergence flag: PM by bracketed
Newton on Q(tau²) = k - 1; ML/REML/EB by bracketed Newton on the score (Halley's step on the first
pass, from the analytic second derivative), which reaches the root Fisher scoring (metafor's
algorithm, used by single fits) converges to, in a few steps instead of the hundreds scoring crawls
through on some rows.
Speed: the iterations run on (width × rows) copies of y and v, so adding tau² and the row sums
stream through contiguous memory, write into a few reused scratch arrays instead of fresh
temporaries, and drop finished rows by integer indices once a third of them is done.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np
import pandas as pd
from scipy import special

from meta.errors import MetaError
from meta.estimators import DEFAULT_CONTROL, DIVERGENCE_WINDOW, normalise_method
from meta.estimators import tau2 as single_tau2


@dataclass
class BatchResult:
    """Per-row results (arrays of length n_rows); ``weights`` (n_rows × width, percent) on demand."""

    method: str
    test: str
    level: float
    k: np.ndarray
    estimate: np.ndarray
    se: np.ndarray
    stat: np.ndarray
    p: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    df: np.ndarray
    tau2: np.ndarray
    se_tau2: np.ndarray
    tau: np.ndarray
    i2: np.ndarray
    h2: np.ndarray
    q: np.ndarray
    q_df: np.ndarray
    q_p: np.ndarray
    pi_low: np.ndarray
    pi_high: np.ndarray
    converged: np.ndarray
    iterations: np.ndarray
    _w: np.ndarray = field(repr=False, default=None)
    _mask: np.ndarray | None = field(repr=False, default=None)

    @property
    def weights(self) -> np.ndarray:
        """Per-study weights in percent (n_rows × width; NaN where padded), computed on demand."""
        wts = 100.0 * self._w / self._w.sum(axis=1, keepdims=True)
        return wts if self._mask is None else np.where(self._mask, wts, np.nan)

    def __len__(self) -> int:
        return int(self.k.size)

    def to_frame(self) -> pd.DataFrame:
        """One row per meta-analysis (all scalar fields)."""
        skip = {"method", "test", "level", "_w", "_mask"}
        return pd.DataFrame({f.name: getattr(self, f.name) for f in fields(self) if f.name not in skip})


def _rows(yi, vi) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate; return y (0 where padded), v (inf where padded, so its weight is exactly 0), mask."""
    y = np.atleast_2d(np.asarray(yi, dtype=float))
    v = np.atleast_2d(np.asarray(vi, dtype=float))
    if y.shape != v.shape:
        raise MetaError(f"yi has shape {y.shape} but vi has {v.shape}")
    fy, fv = np.isfinite(y), np.isfinite(v)
    mask = fy & fv
    if not mask.all():
        half = fy != fv
        if half.any():
            r, c = np.argwhere(half)[0]
            raise MetaError(f"row {r + 1}, column {c + 1}: yi and vi must both be given or both be NaN")
        empty = ~mask.any(axis=1)
        if empty.any():
            raise MetaError(f"row {int(np.flatnonzero(empty)[0]) + 1}: no studies to pool (need at least 1)")
        y = np.where(mask, y, 0.0)
        v = np.where(mask, v, np.inf)
    bad = ~(v > 0)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise MetaError(f"row {r + 1}, column {c + 1}: vi {v[r, c]:g} must be > 0")
    return y, v, mask


_ONES: dict[int, np.ndarray] = {}


def _sum(a):
    """Row sums; a matrix-vector product is several times faster than ``sum(axis=1)`` on short rows."""
    width = a.shape[1]
    if width not in _ONES:
        _ONES[width] = np.ones(width)
    return a @ _ONES[width]


def _colsum(a):
    """Sums down the columns of a (width × rows) array: one study per row of memory, so adding
    tau² and the row sums stream through contiguous memory (about twice as fast as row layout)."""
    width = a.shape[0]
    if width not in _ONES:
        _ONES[width] = np.ones(width)
    return _ONES[width] @ a


class _Rows:
    """Row-wise weighted sums; padded cells have v = inf, so w = 1/(v + tau²) = 0 there."""

    def __init__(self, y, v, mask):
        self.y, self.v, self.mask = y, v, mask
        self.full = bool(mask.all())
        self.k = mask.sum(axis=1) if not self.full else np.full(y.shape[0], y.shape[1])
        d = y - y[:, :1]
        if not self.full:
            d = np.where(mask, d, 0.0)
        self.same = _sum(d * d) == 0.0   # all yi equal: residuals are then exactly 0, as in metafor

    def cols(self, idx) -> tuple[np.ndarray, np.ndarray]:
        """(y, v) of rows ``idx`` transposed to contiguous (width × rows), gathered in one pass."""
        shape = (self.y.shape[1], idx.size)
        if idx.size == self.y.shape[0]:
            return np.ascontiguousarray(self.y.T), np.ascontiguousarray(self.v.T)
        return tuple(np.take(a.T, idx, axis=1, out=np.empty(shape)) for a in (self.y, self.v))

    def fixed(self):
        """(w0 = 1/v, Σw0, Σw0², Σw0³, Q) at tau² = 0, computed once."""
        if not hasattr(self, "_fixed"):
            w0 = 1.0 / self.v
            s, s2, s3 = _moments(w0)
            self._fixed = (w0, s, s2, s3, self.q(np.zeros(self.k.size), w0))
        return self._fixed

    def w(self, t):
        return 1.0 / (self.v + t[:, None])

    def mean(self, w, s=None):
        s = _sum(w) if s is None else s
        return np.where(self.same, self.y[:, 0], _sum(w * self.y) / s)

    def q(self, t, w=None):
        w = self.w(t) if w is None else w
        e = self.y - self.mean(w)[:, None]
        return _sum(w * e * e)

    def unweighted_dev2(self):
        """Σ (y - ȳ)² over the real cells (ȳ unweighted)."""
        ybar = _sum(self.y) / self.k
        d = self.y - ybar[:, None]
        if not self.full:
            d = np.where(self.mask, d, 0.0)
        return np.where(self.same, 0.0, _sum(d * d))

    def vsum(self, power=1):
        vv = self.v if self.full else np.where(self.mask, self.v, 0.0)
        return _sum(vv**power)


def _moments(w):
    """(Σw, Σw², Σw³) per row."""
    w2 = w * w
    return _sum(w), _sum(w2), _sum(w2 * w)


def _trp_trpp(s, s2, s3):
    return s - s2 / s, s2 - 2.0 * s3 / s + s2 * s2 / (s * s)


def _closed_form(r: _Rows, m: str):
    k = r.k.astype(float)
    km1 = np.maximum(k - 1.0, 1.0)
    zero = np.zeros(k.size)
    if m == "EE":
        return zero, np.full(k.size, np.nan)
    if m in ("DL", "HS"):
        _, s, s2, s3, q = r.fixed()
        trp, trpp = _trp_trpp(s, s2, s3)
        t = np.maximum((q - (k - 1)) / trp if m == "DL" else (q - k) / s, 0.0)
        den = trp if m == "DL" else s
        se = np.sqrt((2 * (k - 1) + 4 * t * trp + 2 * t * t * trpp) / den**2)
        return t, se
    if m == "HE":
        t = np.maximum(_he(r), 0.0)
        sv = r.vsum()
        pvpv = r.vsum(2) * (1 - 2 / k) + sv**2 / k**2
        se = np.sqrt((2 * pvpv + 4 * t * sv * (k - 1) / k + 2 * t * t * (k - 1)) / km1**2)
        return t, se
    # SJ: start from the (population) variance of yi
    t0 = r.unweighted_dev2() / k
    w = r.w(t0)
    s, s2, s3 = _moments(w)
    _, trpp = _trp_trpp(s, s2, s3)
    t = np.maximum(t0 * r.q(t0, w) / km1, 0.0)
    vv = r.v if r.full else np.where(r.mask, r.v, 0.0)
    a = w * vv
    pvpv = _sum(a * a) - 2 * _sum(a * a * w) / s + _sum(a * w) ** 2 / s**2
    ppd = w * w - 2 * w**3 / s[:, None] + w * w * (s2 / s**2)[:, None]
    pvp = _sum(vv * ppd)
    se = np.sqrt(t0**2 / km1**2 * (2 * pvpv + 4 * t * pvp + 2 * t * t * trpp))
    return t, se


def _he(r: _Rows):
    k = r.k.astype(float)
    return (r.unweighted_dev2() - r.vsum() * (k - 1) / k) / np.maximum(k - 1, 1)


#: the working set is compacted once this fraction or less of it is unfinished (copying the rows
#: out costs about one iteration's arithmetic on them)
COMPACT = 2 / 3


def _iterate(r: _Rows, active, step, tol: float, maxiter: int, state: dict | None = None, rel: float = 0.0):
    """Advance tau² from 0 or the given start with ``step(y, v, same, k, t, state) -> new t`` on the
    unfinished rows (``y``, ``v`` given as width × rows, see :func:`_colsum`) until |change| <= tol + rel·|t| (or the step sets ``state["done"]``).

    Finished rows are frozen in place and the working set (with every per-row array in ``state``,
    e.g. root brackets) is compacted only once ``1 - COMPACT`` of it has finished: copying the rows out
    every iteration would cost more than the arithmetic. Returns (t, converged, iterations)."""
    n = r.k.size
    t = state.pop("start") if state and "start" in state else np.zeros(n)
    conv = np.ones(n, dtype=bool)
    iters = np.zeros(n, dtype=int)
    idx = np.flatnonzero(active)
    y, v = r.cols(idx)
    if idx.size == n:                     # every row: no need to gather copies (``t`` is not updated in place)
        same, k, tt, st = r.same, r.k.astype(float), t, dict(state or {})
    else:
        same, k, tt = r.same[idx], r.k[idx].astype(float), t[idx]
        st = {key: val[idx] for key, val in (state or {}).items()}
    watch = np.full(idx.size, np.inf)
    last = np.zeros(idx.size)  # each row's previous step, for the divergence check
    live = np.ones(idx.size, dtype=bool)
    it = 0
    while idx.size:
        it += 1
        new = step(y, v, same, k, tt, st)
        change = np.abs(new - tt)
        done = (change <= tol) | (change <= rel * np.abs(new))
        if "done" in st:                      # the step may know a row is finished (Newton's last step)
            done |= st.pop("done")
        done &= live
        if it % DIVERGENCE_WINDOW == 0:       # same early stop as meta.estimators._diverging
            grew = live & ~done & (change >= watch) & ((new - tt) * last < 0)
            conv[idx[grew]] = False
            done |= grew
            watch = change
        last = new - tt
        tt = np.where(live, new, tt)
        if it > maxiter:
            conv[idx[live & ~done]] = False
            done = live.copy()
        if done.any():
            fin = np.flatnonzero(done)            # integer indices: several times faster than masks
            t[idx[fin]] = tt[fin]
            iters[idx[fin]] = it
            live &= ~done
            if live.sum() <= COMPACT * live.size:
                keep = np.flatnonzero(live)
                idx, same, k, tt = idx[keep], same[keep], k[keep], tt[keep]
                y, v = y.take(keep, axis=1), v.take(keep, axis=1)
                st = {key: val[keep] for key, val in st.items()}
                watch, last = watch[keep], last[keep]
                live = live[keep]
    return t, conv, iters


class _Scratch:
    """Reused work arrays for the iterations, allocated once per fit at full size.

    Why: a fresh 10,000 × 10 array is 800 kB of new memory, and the page faults that bring it in
    cost ten times the arithmetic done on it. After the working set is compacted the smaller
    arrays are views onto the front of the same memory."""

    def __init__(self, count: int):
        self.count, self.flat = count, None

    def get(self, shape) -> list[np.ndarray]:
        size = shape[0] * shape[1]
        if self.flat is None or self.flat[0].size < size:
            self.flat = [np.empty(size) for _ in range(self.count)]
        return [f[:size].reshape(shape) for f in self.flat]


def _score_parts(y, v, same, kk, t, m, scratch: _Scratch, curv: bool = True):
    """(N, D, dN/dtau², d²N/dtau²²) with Fisher's adjustment N/D (metafor's ``adj``) for ML, REML or EB.

    N is the score's numerator (zero at the root), D the expected information; the derivatives of N
    let Halley/Newton (and the convergence-rate check) work on the same equation scoring solves.
    With w = 1/(v + tau²), e = y - b, the sums A_p = Σ w^p e², G_p = Σ w^p e, S_p = Σ w^p obey
    dA_p = -p A_(p+1) + 2 (G_2/S_1) G_p, dG_p = -p G_(p+1) + (G_2/S_1) S_p, dS_p = -p S_(p+1)
    (G_1 = 0), from which both derivatives follow. ``curv`` False skips the second derivative (None).
    ``y``, ``v`` are width × rows; every full-size step writes into ``scratch``."""
    w, u, a, wua = scratch.get(y.shape)
    np.add(v, t, out=w)
    np.divide(1.0, w, out=w)
    s = _colsum(w)
    b = np.where(same, y[0], _colsum(np.multiply(w, y, out=a)) / s)
    np.subtract(y, b, out=a)                                  # e = y - b
    np.multiply(w, a, out=u)                                  # u = P y for the intercept-only model
    np.multiply(w, u, out=wua)
    g = _colsum(wua)                                          # G_2
    if m == "EB":
        c = kk / (kk - 1)
        ddn = 2.0 * c * (_colsum(np.multiply(wua, u, out=wua)) - g * g / s) if curv else None  # 2c(A_3 - G_2²/S_1)
        n = _colsum(np.multiply(u, a, out=a)) * c - kk
        return n, s, -c * _colsum(np.multiply(u, u, out=a)), ddn
    a3 = _colsum(np.multiply(wua, u, out=a))
    uu = _colsum(np.multiply(u, u, out=a))                    # y'PPy = A_2
    if curv:
        a4 = _colsum(np.multiply(wua, wua, out=a))
        g3 = _colsum(np.multiply(wua, w, out=a))
    upu = a3 - g * g / s                                      # y'PPPy
    np.multiply(w, w, out=a)
    s2 = _colsum(a)
    if m == "ML":
        if not curv:
            return uu - s, s2, s2 - 2.0 * upu, None
    s3 = _colsum(np.multiply(a, w, out=a))
    ddn = None
    if curv:
        gs = g / s
        ddn = 6.0 * a4 - 12.0 * gs * g3 + 6.0 * gs * gs * s2 - 2.0 * s3
    if m == "ML":
        return uu - s, s2, s2 - 2.0 * upu, ddn
    trpp = s2 - 2.0 * s3 / s + s2 * s2 / (s * s)
    if curv:
        q2 = s2 / s
        ddn += 6.0 * _colsum(np.multiply(a, w, out=a)) / s - 6.0 * q2 * s3 / s + 2.0 * q2 * q2 * q2
    return uu - (s - s2 / s), trpp, trpp - 2.0 * upu, ddn


def _halved(t, adj):
    """metafor's step halving: halve a step that would cross below 0 until it does not (exact in
    floating point, so the number of halvings is found from the exponents instead of a loop), and
    stay at 0 when the step there is negative."""
    adj = np.where((t == 0.0) & (adj < 0.0), 0.0, adj)   # halving would underflow to -0: stay at 0
    neg = t + adj < 0.0
    if not neg.any():
        return t + adj
    with np.errstate(divide="ignore", invalid="ignore"):
        j = np.where(neg, np.maximum(np.ceil(np.log2(-adj / t)) - 1, 0), 0).astype(int)
    adj = np.ldexp(adj, -j)
    neg = t + adj < 0.0
    while neg.any():                     # at most a step or two past the estimate from the exponents
        adj = np.where(neg, adj / 2.0, adj)
        neg = t + adj < 0.0
    return t + adj


#: rows still unsettled after this many Newton steps are refitted one by one by metafor's scoring
#: (about one per 20,000; their per-row Python loop is cheaper than more batch iterations). A row
#: creeping down to the boundary takes up to ~50 batch steps (0.1 ms each once alone) against
#: hundreds of scoring steps (10 µs each) when refitted, so the cap lets it finish in the batch.
NEWTON_CAP = 60

#: the first passes take Halley's (third-order) step, the later ones Newton's: far from the root
#: the extra order saves passes over every row; near it the extra sums cost more than they save
HALLEY_PASSES = 1

#: tau² below this fraction of a row's smallest vi counts as at the boundary when the score there
#: is negative and scoring aims below 0
NEAR_ZERO = 1e-3


def _fisher(r: _Rows, m: str, ctl):
    """ML/REML/EB: the root metafor's Fisher scoring converges to, found by Newton's method.

    Scoring converges only linearly, with rate rho = F'(tau²*) (F the scoring map); on ~6% of
    rows rho is near -1 (iterates oscillating round the root) and it crawls for hundreds of
    iterations. A bracketed Newton iteration on the score numerator, from the same start (the
    truncated HE estimate), reaches the same root quadratically. ``converged`` keeps the single-fit
    meaning — would scoring get there within ``maxiter``? — read off rho and the distance from the
    start: |rho| >= 1 never converges (single fits stop at the divergence rule or at maxiter); a
    root at the boundary 0 is reached at least halving the distance each step."""
    k = r.k.astype(float)
    thr, maxiter = float(ctl["threshold"]), int(ctl["maxiter"])
    stepadj = float(ctl["stepadj"])
    ulps = 4 * np.finfo(float).eps
    t0 = np.maximum(_he(r), 0.0)
    multi = r.k > 1
    early, cubic = np.sqrt(thr), np.cbrt(thr)

    def newton(y, v, same, kk, t, st):
        first = len(passes) < HALLEY_PASSES                       # Halley from the start, Newton after
        passes.append(1)
        n, d, dn, ddn = _score_parts(y, v, same, kk, t, m, scratch, curv=first)
        adj = n / d * stepadj
        # a Newton step that left the score's sign alone but flipped its slope may have jumped a
        # pair of roots scoring would stop at: go back, and take scoring's steps from there on
        back = st["newt"] & (n * st["n"] > 0.0) & (dn * st["dn"] < 0.0)
        st["plain"] |= back
        st["lo"] = np.where((n > 0) & ~back, np.maximum(st["lo"], t), st["lo"])
        st["hi"] = np.where((n < 0) & ~back, np.minimum(st["hi"], t), st["hi"])
        # Halley's step (third order: one or two passes fewer than Newton) where the curvature
        # term is moderate, Newton's elsewhere; both then face the same checks
        cand = t - n / dn
        halley = False
        if first:
            lam = 0.5 * n * ddn / (dn * dn)
            halley = np.abs(lam) < 0.5
            cand = np.where(halley, t - n / dn / (1.0 - lam), cand)
        # Newton must head where scoring heads (sign of the score) and stay inside the bracket;
        # after a step back, only once a sign change brackets the root
        wary = st["plain"] & ~((st["lo"] > 0.0) & np.isfinite(st["hi"]))
        bad = wary | ~np.isfinite(cand) | (cand <= st["lo"]) | (cand >= st["hi"]) | ((cand - t) * n <= 0.0)
        stay = (n == 0.0) | (t == 0.0) & (n < 0.0)                # at the root or held at 0
        fix = np.flatnonzero(bad & ~stay)                          # the rest is elementwise: only these rows
        if fix.size:
            tf, af, nf, lo, hi = t[fix], adj[fix], n[fix], st["lo"][fix], st["hi"][fix]
            score = _halved(tf, af)                                # scoring's own step
            alt = np.where((score <= lo) | (score >= hi), 0.5 * (lo + hi), score)
            # scoring aims below 0 (it halves its step) while tau² is tiny against every vi, where
            # the score is nearly linear and so has no root left above 0: go to the boundary
            vmin = r.v[st["row"][fix]].min(axis=1)                 # only for these rows: costly on all
            down = (nf < 0.0) & (lo == 0.0) & (tf + af < 0.0) & (tf < NEAR_ZERO * vmin)
            # scoring creeping down with no root bracketed: at least halve tau² per step (a root
            # crossed shows as a sign change of the score and brackets it)
            creep = (nf < 0.0) & (lo == 0.0) & (score > 0.5 * tf)
            cand[fix] = np.where(down, 0.0, np.where(creep, 0.5 * tf, alt))
        if back.any():                                             # scoring's step from the last point
            cand[back] = _halved(st["t"][back], st["adj"][back])
        # quadratic convergence: after a Newton step of relative size sqrt(threshold) the error left
        # is about threshold·tau², below what scoring's own stop leaves; cubic after Halley's step
        st["done"] = ~bad & ~back & (np.abs(cand - t) <= np.where(halley, cubic, early) * cand)
        st["newt"], st["n"], st["dn"], st["t"], st["adj"] = ~bad, n, dn, t, adj
        slope[st["row"]] = stepadj * dn / d                      # F'(tau²) - 1, kept for the verdict
        return np.where(stay, t, cand)

    scratch = _Scratch(4)
    passes: list[int] = []
    nan = np.full(k.size, np.nan)
    state = {"start": t0.copy(), "lo": np.zeros(k.size), "hi": np.full(k.size, np.inf),
             "newt": np.zeros(k.size, dtype=bool), "plain": np.zeros(k.size, dtype=bool), "n": nan, "dn": nan,
             "t": nan, "adj": nan, "row": np.arange(k.size)}
    slope = np.zeros(k.size)
    cap = min(NEWTON_CAP, maxiter)
    t, ok, iters = _iterate(r, multi, newton, thr, cap, state, rel=ulps)
    t = np.where(multi, np.maximum(t, 0.0), 0.0)
    conv = ok & _scoring_would_converge(t, t0, slope, thr, maxiter)
    for i in np.flatnonzero(multi & ~ok):                    # the few rows Newton did not settle
        one = single_tau2(r.y[i][r.mask[i]], r.v[i][r.mask[i]], m, **ctl)
        t[i], conv[i], iters[i] = one.tau2, one.converged, iters[i] + one.iterations
    w = np.add(r.v, t[:, None])                           # final weights, kept for the result
    np.divide(1.0, w, out=w)
    s = _sum(w)
    mean = None
    if m in ("ML", "REML"):
        t, s, mean = _global_max(r, t, w, s, m, scratch)
    a, b = scratch.get(w.shape)[:2]
    s2 = _sum(np.multiply(w, w, out=a))
    if m == "ML":
        se = np.sqrt(2.0 / s2)
    elif m == "REML":
        se = np.sqrt(2.0 / _trp_trpp(s, s2, _sum(np.multiply(a, w, out=b)))[1])
    else:
        se = np.sqrt(2.0 * k * k / np.maximum(k - 1, 1)) / s
    return t, se, conv, iters, w, s, mean


def _scoring_would_converge(t, t0, slope, thr: float, maxiter: int) -> np.ndarray:
    """Whether metafor's scoring from ``t0`` stops at the root ``t`` within ``maxiter`` steps: the
    error shrinks by |rho| = |F'(t)| = |1 + slope| per step, and scoring stops once a step is below
    the threshold. A root at 0 (t <= threshold) is reached at least halving the distance per step."""
    rho = np.abs(1.0 + slope)
    first = np.abs(t0 - t) * np.abs(slope)                    # about the size of the first step
    stop = np.maximum(thr, 4 * np.finfo(float).eps * t)
    with np.errstate(divide="ignore", invalid="ignore"):
        steps = np.where(first <= stop, 1.0, 1.0 + np.log(stop / first) / np.log(rho))
    return (t <= thr) | (t == t0) | (rho < 1.0) & (steps <= maxiter)


def _global_max(r: _Rows, t, w, s, m, scratch: _Scratch):
    """tau² = 0 where the boundary's (restricted) likelihood beats the root scoring stopped at,
    the rule of :func:`meta.estimators.boundary_if_higher`. ``w`` (weights at ``t``) is updated in
    place on the rows moved to 0; rows already at 0 compare equal and stay.

    Returns (tau², Σw, pooled mean) at the final weights: the result needs the same sums, so they
    are handed on instead of computed twice (``None`` for the mean when no row has tau² > 0)."""
    if not (t > 0).any():
        return t, s, None
    e, a = scratch.get(w.shape)[:2]
    w0, s0, _, _, q0 = r.fixed()
    b = np.where(r.same, r.y[:, 0], _sum(np.multiply(w, r.y, out=a)) / s)
    np.subtract(r.y, b[:, None], out=e)
    np.multiply(w, e, out=a)
    wee = _sum(np.multiply(a, e, out=a))
    logs = _log_ratio_sum(t, w0, a)
    gain = -0.5 * (logs + wee - q0)                           # loglik(t) - loglik(0)
    if m == "REML":
        gain -= 0.5 * (np.log(s) - np.log(s0))
    drop = (gain < 0.0) & (t > 0)
    if not drop.any():
        return t, s, b
    w[drop] = w0[drop]
    s, b = s.copy(), b.copy()
    s[drop] = s0[drop]
    b[drop] = np.where(r.same[drop], r.y[drop, 0], _sum(w0[drop] * r.y[drop]) / s0[drop])
    return np.where(drop, 0.0, t), s, b


def _log_ratio_sum(t, w0, a):
    """Σ log(1 + tau²/vi) per row (0 for padding), i.e. Σ log(v + tau²) - Σ log(v).

    Why a product: one log per row instead of one per study (log is the costliest step of the
    boundary check). A row whose product leaves the float range sums log1p terms instead."""
    np.multiply(t[:, None], w0, out=a)
    np.add(a, 1.0, out=a)
    with np.errstate(over="ignore", under="ignore"):
        out = np.log(np.multiply.reduce(a, axis=1))
    wild = ~np.isfinite(out)
    if wild.any():
        out[wild] = _sum(np.log1p(t[wild, None] * w0[wild]))
    return out


def _pm(r: _Rows, ctl):
    """Safeguarded Newton on Q(tau²) = k - 1 (bracketed, falls back to bisection), all rows at once."""
    k = r.k.astype(float)
    hi_end = float(ctl["tau2_max"])
    need = (r.k > 1) & (r.fixed()[4] >= k - 1)
    too_high = np.zeros(k.size, dtype=bool)
    if need.any():   # no root below tau2_max: metafor refuses; here that row is NaN, converged False
        too_high = need & (r.q(np.full(k.size, hi_end)) > k - 1)
        need &= ~too_high

    def step(y, v, same, kk, t, st):
        w, e = scratch.get(y.shape)
        np.add(v, t, out=w)
        np.divide(1.0, w, out=w)
        b = np.where(same, y[0], _colsum(np.multiply(w, y, out=e)) / _colsum(w))
        np.subtract(y, b, out=e)
        np.multiply(e, e, out=e)
        we2 = np.multiply(w, e, out=e)
        f = _colsum(we2) - (kk - 1)
        st["lo"] = np.where(f > 0, t, st["lo"])
        st["hi"] = np.where(f <= 0, t, st["hi"])
        with np.errstate(divide="ignore", invalid="ignore"):
            nt = t + f / _colsum(np.multiply(w, we2, out=w))   # Newton: dQ/dtau² = -Σ w² (y - b)²
        bad = ~np.isfinite(nt) | (nt <= st["lo"]) | (nt >= st["hi"])
        nt = np.where(bad, 0.5 * (st["lo"] + st["hi"]), nt)
        return np.where(f == 0, t, nt)

    scratch = _Scratch(2)
    state = {"lo": np.zeros(k.size), "hi": np.full(k.size, hi_end)}
    t, conv, iters = _iterate(r, need, step, float(ctl["tol"]), int(ctl["maxiter"]), state,
                              rel=4 * np.finfo(float).eps)
    t[too_high] = np.nan
    conv[too_high] = False
    se = np.sqrt(2.0 * k * k / np.maximum(k - 1, 1)) / _sum(r.w(t))
    return t, se, conv, iters


def pool_many(yi, vi, method: str = "REML", test: str = "z", level: float = 95, **control) -> BatchResult:
    """Fit ``rma(yi[i], vi[i], method, test, level)`` for every row i, vectorised.

    Rows are NaN-padded to a common width; a row with k = 1 gets tau² = 0 and test z (as metafor).
    A row metafor would refuse (PM with no root below ``tau2_max``) comes back NaN with
    ``converged`` False instead of stopping the whole batch.
    Same numbers as looping :func:`meta.model.rma` (tested); ``converged``/``iterations`` per row.
    For ML/REML/EB, ``converged`` says whether metafor's Fisher scoring would converge within
    ``maxiter`` (read off its rate at the root; a row needing within a few percent of ``maxiter``
    steps may be judged either way), and ``iterations`` counts the batch's own Newton steps.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        return _pool_many(yi, vi, method, test, level, control)


def _pool_many(yi, vi, method, test, level, control) -> BatchResult:
    y, v, mask = _rows(yi, vi)
    m = normalise_method(method)
    t_name = "knha" if str(test).lower() in ("knha", "t", "hk", "hksj") else str(test).lower()
    if t_name not in ("z", "knha"):
        raise MetaError(f"unknown test {test!r}; use z or knha")
    ctl = {**DEFAULT_CONTROL, **control}
    r = _Rows(y, v, mask)
    n = r.k.size
    conv = np.ones(n, dtype=bool)
    iters = np.zeros(n, dtype=int)
    w = s = b = None
    if m in ("ML", "REML", "EB"):
        tau2, se_tau2, conv, iters, w, s, b = _fisher(r, m, ctl)
    elif m == "PM":
        tau2, se_tau2, conv, iters = _pm(r, ctl)
    else:
        tau2, se_tau2 = _closed_form(r, m)
    single = r.k == 1
    tau2 = np.where(single, 0.0, tau2)
    se_tau2 = np.where(single | (m == "EE"), np.nan, se_tau2)
    k = r.k.astype(float)
    w = r.w(tau2) if w is None else w
    s = _sum(w) if s is None else s
    b = r.mean(w, s) if b is None else b
    se = np.sqrt(1.0 / s)
    alpha = 1.0 - float(level) / 100.0
    knha = (t_name == "knha") & ~single
    df = np.where(knha, k - 1, np.nan)
    if knha.any():
        e = y - b[:, None]
        s2w = _sum(w * e * e) / np.maximum(k - 1, 1)
        se = np.where(knha, np.sqrt(s2w / s), se)
    crit = np.full(n, special.ndtri(1 - alpha / 2))
    if knha.any():   # t quantiles are costly: one per distinct df
        dfs, inv = np.unique(r.k[knha] - 1, return_inverse=True)
        crit[knha] = special.stdtrit(dfs, 1 - alpha / 2)[inv]
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = np.where(se > 0, b / se, np.where(b == 0, np.nan, np.copysign(np.inf, b)))
    p = 2 * special.ndtr(-np.abs(stat))
    if knha.any():
        p[knha] = 2 * special.stdtr(k[knha] - 1, -np.abs(stat[knha]))
    _, s0, s0_2, _, q0 = r.fixed()
    q = np.where(single, 0.0, q0)
    q_p = np.where(single, 1.0, special.chdtrc(np.maximum(k - 1, 1), q))
    trp = s0 - s0_2 / s0
    with np.errstate(divide="ignore", invalid="ignore"):
        vt = np.where(single, 0.0, (k - 1) / trp)
        if m == "EE":
            i2 = np.where(q > 0, np.maximum(0.0, 100 * (q - (k - 1)) / q), 0.0)
            h2 = np.where(single, 1.0, q / np.maximum(k - 1, 1))
        else:
            i2 = np.where(single, 0.0, 100 * tau2 / (vt + tau2))
            h2 = np.where(single, 1.0, tau2 / vt + 1.0)
    half = crit * np.sqrt(se * se + tau2)
    pi_lo = np.full(n, np.nan) if m == "EE" else b - half
    pi_hi = np.full(n, np.nan) if m == "EE" else b + half
    return BatchResult(
        method=m, test=t_name, level=float(level), k=r.k, estimate=b, se=se, stat=stat, p=p,
        ci_low=b - crit * se, ci_high=b + crit * se, df=df, tau2=tau2, se_tau2=se_tau2, tau=np.sqrt(tau2),
        i2=i2, h2=h2, q=q, q_df=r.k - 1, q_p=q_p, pi_low=pi_lo, pi_high=pi_hi, converged=conv,
        iterations=iters, _w=w, _mask=None if r.full else mask,
    )
