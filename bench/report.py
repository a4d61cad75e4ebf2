"""Turn the suite's results into ratios, a JSON file and a Markdown table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def compute_ratios(case: dict[str, Any]) -> None:
    """Fill ``config["ratio_values"]`` and ``config["target_met"]`` in place for every config.

    A ratio is ``median(numerator) / median(denominator)``; None when either side is missing.
    Targets are minimums when higher is better, maximums otherwise (memory).
    """
    higher = case.get("higher_is_better", True)
    for config in case["configs"]:
        results = config["results"]
        values: dict[str, float | None] = {}
        for label, (num, den) in config["ratios"].items():
            if num in results and den in results and results[den]["median"]:
                values[label] = results[num]["median"] / results[den]["median"]
            else:
                values[label] = None
        config["ratio_values"] = values
        met: dict[str, bool | None] = {}
        for label, target in config.get("targets", {}).items():
            value = values.get(label)
            met[label] = None if value is None else (value >= target if higher
                                                     else value <= target)
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
                higher: bool) -> str:
    if value is None:
        return "n/a"
    text = f"{value:.2f}x"
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
        "", "Cells: median (min-max) over interleaved rounds. Ratios: npdeep's median over "
        "the baseline's; for memory lower is better.", "",
    ]
    judged = meta["mode"] != "tiny"  # tiny sizes check that the suite runs: no verdicts
    if not judged:
        lines[-1:-1] = ["Tiny mode checks that the suite runs and measures nothing: no ratio "
                        "is judged against its target.", ""]
    for letter, case in report["cases"].items():
        lines += [f"## {case['title']}", "", f"Unit: {case['unit']}.", ""]
        if "error" in case:
            lines += [f"Case failed: {case['error']}", ""]
            continue
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
                                  config["target_met"].get(r), higher) for r in labels]
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


def write(report: dict[str, Any], out_dir: Path, stem: str) -> tuple[Path, Path]:
    """Write ``<stem>.json`` and ``<stem>.md`` under ``out_dir``; return both paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / f"{stem}.json"
    md_path = out_dir / f"{stem}.md"
    json_path.write_text(json.dumps(report, indent=2, sort_keys=False) + "\n")
    md_path.write_text(markdown(report) + "\n")
    return json_path, md_path
