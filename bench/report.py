"""Turn the suite's results into ratios, a JSON file and a Markdown table."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

#: A ratio whose inputs spread more than this (max/min over the rounds, either side) is
#: printed as unreliable and judged against no target.
SPREAD_LIMIT = 3.0


def spread(result: dict[str, Any]) -> float:
    """``max / min`` of one contestant's rates over the rounds; 1.0 for a single value."""
    low, high = result.get("min"), result.get("max")
    if low is None or high is None:
        return 1.0
    return high / low if low > 0 else float("inf")


def compute_ratios(case: dict[str, Any], judged: bool = True) -> None:
    """Fill the ratios of every config of ``case`` in place, and judge them.

    ``config["ratio_values"]``: ``median(numerator) / median(denominator)``, None when either
    side is missing. ``config["spread"]``: the larger ``max/min`` of the two sides (None with
    the ratio). ``config["reliable"]``: False when that spread exceeds :data:`SPREAD_LIMIT`
    (None with the ratio).
    ``config["target_met"]``: whether each target is met (minimums when higher is better,
    maximums otherwise, as for memory); None when the ratio is missing or unreliable, and
    always None when ``judged`` is false (tiny mode measures nothing).
    """
    higher = case.get("higher_is_better", True)
    for config in case["configs"]:
        results = config["results"]
        values: dict[str, float | None] = {}
        spreads: dict[str, float | None] = {}
        for label, (num, den) in config["ratios"].items():
            if num in results and den in results and results[den]["median"]:
                values[label] = results[num]["median"] / results[den]["median"]
                spreads[label] = max(spread(results[num]), spread(results[den]))
            else:
                values[label] = spreads[label] = None
        config["ratio_values"] = values
        config["spread"] = spreads
        config["reliable"] = {label: None if s is None else s <= SPREAD_LIMIT
                              for label, s in spreads.items()}
        met: dict[str, bool | None] = {}
        for label, target in config.get("targets", {}).items():
            value = values.get(label)
            if value is None or not judged or config["reliable"].get(label) is False:
                met[label] = None
            else:
                met[label] = value >= target if higher else value <= target
        config["target_met"] = met


def _fmt(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _cell(result: dict[str, Any]) -> str:
    if "min" in result and "max" in result:
        return f"{_fmt(result['median'])} ({_fmt(result['min'])}-{_fmt(result['max'])})"
    return _fmt(result["median"])


def _ratio_cell(value: float | None, target: float | None, met: bool | None,
                higher: bool, spread_value: float | None = None) -> str:
    """One ratio cell: the value, then its verdict, or why there is none."""
    if value is None:
        return "n/a"
    text = f"{value:.2f}x"
    if spread_value is not None and spread_value > SPREAD_LIMIT:
        return text + f" (unreliable: spread {spread_value:.1f}x)"
    if target is not None:
        sign = ">=" if higher else "<="
        text += f" ({'met' if met else 'MISSED'}, target {sign} {target:g})"
    return text


def markdown(report: dict[str, Any]) -> str:
    """The Markdown report: machine facts, then one table per case."""
    meta = report["meta"]
    lines = [
        "# npdeep benchmark results", "",
        f"- date: {meta['date']}; mode: {meta['mode']}; rounds: {meta['rounds']}; "
        f"cooldown: {meta.get('cooldown')} s; git: {meta.get('git_commit')}",
        f"- machine: {meta['cpu']}, {meta['threads']['affinity']} usable CPUs; {meta['platform']}",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()),
        "- threads: " + _threads_line(meta["threads"]),
        f"- BLAS environment removed by re-exec: {meta.get('env_removed') or 'none'}; "
        f"left: {meta.get('blas_env') or 'none'}",
        "", "Cells: median (min-max) over interleaved rounds, unless a case says otherwise. "
        "Ratios: npdeep's median over the baseline's; for memory lower is better. A ratio "
        f"whose inputs spread over {SPREAD_LIMIT:g}x (max/min of either side) is marked "
        "unreliable and not judged.", "",
    ]
    if meta.get("complete") is False:
        lines[2:2] = ["**Incomplete**: the run was interrupted or is still going; this file "
                      "holds the cases that finished.", ""]
    judged = meta["mode"] != "tiny"  # tiny sizes check that the suite runs: no verdicts
    if not judged:
        lines[-1:-1] = ["Tiny mode checks that the suite runs and measures nothing: no ratio "
                        "is judged against its target.", ""]
    for letter, case in report["cases"].items():
        lines += [f"## {case['title']}", ""]
        if "error" in case:
            lines += [f"failed: {case['error']}", ""]
            continue
        lines += [f"Unit: {case['unit']}."
                  + (f" Cells: {case['cells']}." if case.get("cells") else ""), ""]
        higher = case.get("higher_is_better", True)
        names: list[str] = []
        labels: list[str] = []
        for config in case["configs"]:
            names += [n for n in config["results"] if n not in names]
            labels += [r for r, v in config["ratio_values"].items()
                       if v is not None and r not in labels]
        lines.append("| config |" + "".join(f" {c} |" for c in names + labels))
        lines.append("|" + " --- |" * (1 + len(names) + len(labels)))
        for config in case["configs"]:
            cells = [config["id"]]
            cells += [_cell(config["results"][n]) if n in config["results"] else "-"
                      for n in names]
            cells += [_ratio_cell(config["ratio_values"].get(r),
                                  config["targets"].get(r) if judged else None,
                                  config["target_met"].get(r), higher,
                                  config.get("spread", {}).get(r)) for r in labels]
            lines.append("| " + " | ".join(cells) + " |")
        notes = []
        for config in case["configs"]:
            for name, reason in config["skipped"].items():
                notes.append(f"- {config['id']}: {name} skipped: {reason}")
            ceiling = config["results"].get("gemm_ceiling")
            if ceiling:
                notes.append(f"- {config['id']}: gemm_ceiling = {ceiling['source']}")
        if letter == "e":
            for config in case["configs"]:
                for name, r in config["results"].items():
                    tm = r.get("tracemalloc_peak_mb")
                    notes.append(
                        f"- {name}: after imports {r['rss_after_imports_mb']:.0f} MB, before "
                        f"epoch {r['rss_before_epoch_mb']:.0f} MB, epoch growth "
                        f"{r['epoch_growth_mb']:.0f} MB"
                        + (f", tracemalloc peak of a 2nd epoch {tm:.1f} MB" if tm is not None
                           else ""))
        lines += [""] + notes + [""] if notes else [""]
    return "\n".join(lines)


def _threads_line(threads: dict[str, Any]) -> str:
    parts = []
    pools = threads.get("threadpools")
    if isinstance(pools, list):
        parts += [f"{p['internal_api']} ({p['library']}) {p['num_threads']}" for p in pools]
    if "torch_num_threads" in threads:
        parts.append(f"torch intra-op {threads['torch_num_threads']}, "
                     f"inter-op {threads['torch_num_interop_threads']}")
    return "; ".join(parts) or "unknown"


def temp_path(path: Path) -> Path:
    """The temporary file :func:`write` fills before moving it onto ``path``."""
    return path.with_name(path.name + ".tmp")


def output_paths(out_dir: Path, stem: str) -> tuple[Path, Path]:
    """``<out_dir>/<stem>.json`` and ``<out_dir>/<stem>.md``."""
    return out_dir / f"{stem}.json", out_dir / f"{stem}.md"


def _write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file next to ``path``, then move it onto ``path``."""
    tmp = temp_path(path)
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write(report: dict[str, Any], out_dir: Path, stem: str) -> tuple[Path, Path]:
    """Write ``<stem>.json`` and ``<stem>.md`` under ``out_dir``, each atomically.

    A reader (or a run interrupted while writing) never sees a half-written file: each is
    written to ``<file>.tmp`` and moved into place. Raises OSError when either cannot be.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = output_paths(out_dir, stem)
    _write_atomically(json_path, json.dumps(report, indent=2, sort_keys=False) + "\n")
    _write_atomically(md_path, markdown(report) + "\n")
    return json_path, md_path
