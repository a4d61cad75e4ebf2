"""``Network.summary()``: the layers in the article's notation."""

from __future__ import annotations


def summary(net) -> str:
    """Return one line per layer l: W[l] (n[l], n[l-1]), b[l] (n[l], 1), g[l], parameters."""
    lines = [f"{'layer':<8}{'W[l]':<16}{'b[l]':<12}{'activation':<14}{'parameters':>10}"]
    total = 0
    for l in range(1, net.L + 1):  # noqa: E741
        n, n_prev = net.units[l], net.units[l - 1]
        count = n * n_prev + n
        total += count
        lines.append(f"{l:<8}{str((n, n_prev)):<16}{str((n, 1)):<12}"
                     f"{net.activations[l].name:<14}{count:>10,}")
    lines.append(f"total parameters: {total:,}")
    return "\n".join(lines)
