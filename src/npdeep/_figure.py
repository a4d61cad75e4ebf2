"""The Figure :func:`npdeep.plotting.plot_history` returns to be shown (imports matplotlib)."""

from __future__ import annotations

import io

from matplotlib.figure import Figure

__all__ = ["ShownFigure"]


class ShownFigure(Figure):
    """A pyplot figure that a notebook shows once.

    A notebook's backend shows every figure pyplot holds (the inline one when the cell ends),
    so a Figure that is also the cell's value was drawn twice. As a cell's value this one
    draws itself only when pyplot does not show it (closed, or interactive mode off); it is
    a matplotlib Figure in every other way.
    """

    def _ipython_display_(self):
        import matplotlib
        from matplotlib._pylab_helpers import Gcf

        held = any(m.canvas.figure is self for m in Gcf.get_all_fig_managers())
        if held and matplotlib.is_interactive():
            return  # the notebook's backend shows it
        from IPython.display import Image, display

        buf = io.BytesIO()
        self.savefig(buf, format="png", bbox_inches="tight")
        display(Image(data=buf.getvalue(), format="png"))
