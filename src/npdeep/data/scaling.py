"""Feature standardization fitted on training data and saved, as JSON, with the model."""

from __future__ import annotations

from typing import Any

import numpy as np

from npdeep.errors import DataError, ModelFileError


class Standardizer:
    """Scale each feature to zero mean and unit variance: ``(X - mean_) / scale_``.

    Works on samples as rows (``X: (n_samples, n_features)``), at the edge of the package.
    A column whose standard deviation is zero (or negligible against its mean) keeps
    ``scale_ = 1``: it is centred but not divided.

    Examples
    --------
    >>> import numpy as np
    >>> s = Standardizer().fit(np.array([[1.0, 5.0], [3.0, 5.0]]))
    >>> s.transform(np.array([[2.0, 5.0]])).tolist()
    [[0.0, 0.0]]
    """

    def __init__(self) -> None:
        self.mean_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None

    def fit(self, X: np.ndarray) -> Standardizer:
        """Learn ``mean_``, ``scale_: (n_features,)`` from ``X: (n_samples, n_features)``."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[0] == 0:
            raise DataError(
                f"Standardizer.fit: X must be 2-D with at least one row, got shape {X.shape}"
            )
        finite = np.isfinite(X)
        if not finite.all():  # the mean and scale would be NaN, and so would every output
            r, c = (int(v) for v in np.argwhere(~finite)[0])
            raise DataError(f"Standardizer.fit: X[{r}, {c}] is {X[r, c].item()!r}; NaN and inf "
                            "are not allowed")
        # statistics of X / peak, rescaled: values near 1e200 neither overflow the squares
        # nor underflow near 1e-200 (std would be inf or 0 and the column left unscaled)
        peak = np.max(np.abs(X), axis=0)
        peak = np.where((peak > 0) & np.isfinite(peak), peak, 1.0)
        Xn = X / peak
        mean_n = Xn.mean(axis=0)
        # Xn.std(axis=0)'s own steps, in place: no second temporary the size of X
        Xn -= mean_n
        Xn *= Xn
        std_n = np.sqrt(Xn.sum(axis=0) / X.shape[0])
        self.mean_ = mean_n * peak
        # a spread within rounding of the values themselves is a constant column: not scaled
        tiny = 16 * np.finfo(np.float64).eps * np.abs(mean_n)
        self.scale_ = np.where(std_n > tiny, std_n * peak, 1.0)
        return self

    def _check(self, X: np.ndarray, method: str) -> np.ndarray:
        if self.mean_ is None or self.scale_ is None:
            raise DataError(f"Standardizer.{method}: call fit (or from_config) first")
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != self.mean_.shape[0]:
            raise DataError(
                f"Standardizer.{method}: X has shape {X.shape}; expected (n_samples, "
                f"{self.mean_.shape[0]}), the number of features seen at fit"
            )
        return X

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Return ``(X - mean_) / scale_`` as a new array of X's float dtype (float64 otherwise)."""
        X = self._check(X, "transform")
        dtype = X.dtype if X.dtype.kind == "f" else np.float64
        out = X - self.mean_
        out /= self.scale_  # in place: one array the size of X, not two
        return out.astype(dtype, copy=False)

    def fit_transform(self, X: np.ndarray) -> np.ndarray:
        return self.fit(X).transform(X)

    def inverse_transform(self, X: np.ndarray) -> np.ndarray:
        """Return ``X * scale_ + mean_`` (undo :meth:`transform`)."""
        X = self._check(X, "inverse_transform")
        return X * self.scale_ + self.mean_

    def to_config(self) -> dict[str, Any]:
        """Return ``{"mean": [...], "scale": [...]}``, JSON-serialisable, floats exact."""
        if self.mean_ is None or self.scale_ is None:
            raise DataError("Standardizer.to_config: call fit first")
        return {"mean": self.mean_.tolist(), "scale": self.scale_.tolist()}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Standardizer:
        """Rebuild a fitted scaler from :meth:`to_config`'s output (ModelFileError if malformed)."""
        try:
            mean = np.asarray(config["mean"], dtype=np.float64)
            scale = np.asarray(config["scale"], dtype=np.float64)
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(
                f"scaler config must hold 'mean' and 'scale' number lists ({exc!r})"
            ) from None
        if mean.ndim != 1 or mean.shape != scale.shape:
            raise ModelFileError(
                f"scaler config: 'mean' {mean.shape} and 'scale' {scale.shape} "
                "must be 1-D lists of one length"
            )
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(scale)) and np.all(scale > 0)):
            raise ModelFileError("scaler config: 'mean' must be finite and 'scale' finite and > 0")
        s = cls()
        s.mean_, s.scale_ = mean, scale
        return s


def standardize(X: np.ndarray) -> tuple[np.ndarray, Standardizer]:
    """Fit a :class:`Standardizer` on ``X: (n_samples, n_features)``; return the scaled X and it."""
    scaler = Standardizer().fit(X)
    return scaler.transform(X), scaler
