"""What :func:`npdeep.gradient_check` returns: the error of every parameter, the verdict, and
a table that says what was checked, skipped and sampled."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class GradientCheckResult:
    """Per-parameter relative errors of a gradient check, with the verdict.

    Attributes
    ----------
    errors : dict
        ``{'W1': rel_error, 'b1': ..., ...}``.
    checked : dict
        How many entries of each parameter were compared: all, or a seeded sample of
        ``max_checks`` of them (less any skipped).
    tolerance : float
    epsilon : float
        Largest perturbation of each entry (``epsilon/2`` is used too).
    skipped : dict
        Entries of each parameter left out because a perturbation moved some pre-activation
        across a kink (relu's z = 0), where central differences do not estimate the derivative.
    round_off : dict
        Bound on ``||num - bp||`` that round-off alone can cause (``noise`` in the module
        docstring of :mod:`npdeep.gradcheck`); a difference below it passes whatever the
        relative error.
    notes : list of str
        What the check ran differently from training (a float64 copy, dropout off), and which
        parameters were checked again with smaller steps, in words.
    entries : dict
        Each parameter's size ``n[l] * n[l-1]`` or ``n[l]``; more than ``checked + skipped``
        when it was sampled.
    epsilons : dict
        The largest perturbation behind each parameter's verdict: ``epsilon``, or the smaller
        step (``epsilon / 4**k``, k <= 3) at which a parameter that failed at ``epsilon`` passed.
    inconclusive : list of str
        The parameters whose difference was within round-off, but a round-off larger than
        ``sqrt(tolerance)`` times the norm of their own gradient (a tiny ``epsilon``, or a
        vanishing gradient): a wrong gradient that small would pass too, so they did not.
    passed : bool
        Every relative error is below ``tolerance``, every parameter had at least one
        entry compared (``unchecked`` is empty), and none is ``inconclusive``.
    unchecked : list of str
        The parameters none of whose entries could be compared (each perturbation crossed a
        kink): nothing is known of their gradient, so the check did not pass.
    """

    errors: dict[str, float]
    checked: dict[str, int]
    tolerance: float
    epsilon: float
    skipped: dict[str, int] = field(default_factory=dict)
    round_off: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    entries: dict[str, int] = field(default_factory=dict)
    epsilons: dict[str, float] = field(default_factory=dict)
    inconclusive: list[str] = field(default_factory=list)
    passed: bool = field(init=False)
    unchecked: list[str] = field(init=False)

    def __post_init__(self):
        self.unchecked = [k for k, n in self.checked.items() if n == 0]
        self.passed = (all(e < self.tolerance for e in self.errors.values())
                       and bool(self.checked) and not self.unchecked
                       and not self.inconclusive)

    @property
    def max_error(self) -> float:
        return max(self.errors.values())

    def rows(self) -> list[dict]:
        """Return one dict per parameter: key, layer, relative error, entries checked and
        skipped of its ``entries``, round-off bound, the step that decided, verdict (None: no
        entry compared, or ``inconclusive``) and whether it is inconclusive."""
        return [
            {"parameter": k, "layer": int(k[1:]), "relative_error": e,
             "checked": self.checked[k], "skipped": self.skipped.get(k, 0),
             "entries": self.entries.get(k, self.checked[k] + self.skipped.get(k, 0)),
             "round_off": self.round_off.get(k, 0.0),
             "epsilon": self.epsilons.get(k, self.epsilon),
             "passed": (e < self.tolerance if self.checked[k] and k not in self.inconclusive
                        else None),
             "inconclusive": k in self.inconclusive}
            for k, e in self.errors.items()
        ]

    def __str__(self) -> str:
        lines = [f"{'parameter':<10}{'rel. error':>14}{'round-off':>12}{'checked':>10}"
                 f"{'skipped':>10}  verdict"]
        for r in self.rows():
            verdict = ("round-off" if r["inconclusive"] else
                       {True: "ok", False: "FAIL", None: "not checked"}[r["passed"]])
            lines.append(f"{r['parameter']:<10}{r['relative_error']:>14.3e}"
                         f"{r['round_off']:>12.1e}{r['checked']:>10}{r['skipped']:>10}  {verdict}")
        failed = any(r["passed"] is False for r in self.rows())
        verdict = "PASSED" if self.passed else "FAILED" if failed else "INCOMPLETE"
        lines.append(f"{verdict}: max relative error {self.max_error:.3e} "
                     f"(tolerance {self.tolerance:.0e}, epsilon {self.epsilon:.0e})")
        if sum(self.skipped.values()):
            lines.append(f"{sum(self.skipped.values())} entries skipped: their perturbation moved "
                         "a pre-activation across a kink (z = 0), or an output across its "
                         "target under the mean absolute error, where no derivative exists")
        if sum(self.checked.values()) == 0:
            lines.append("no entry could be compared: use a smaller epsilon or other samples")
        elif self.unchecked:
            lines.append(f"not checked: no entry of {', '.join(self.unchecked)} could be "
                         "compared, so nothing is known of its gradient; check on other "
                         "samples, with a smaller epsilon, or after a training step (zero "
                         "biases put relu's z exactly at its kink)")
        sampled = [r for r in self.rows() if r["checked"] + r["skipped"] < r["entries"]]
        if sampled:
            lines.append("sampled (seeded, max_checks per parameter): " + ", ".join(
                f"{r['checked'] + r['skipped']} of the {r['entries']} entries of {r['parameter']}"
                for r in sampled))
        lines.extend(self.notes)
        return "\n".join(lines)
