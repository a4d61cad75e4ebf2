"""The Figure :func:`npdeep.plotting.plot_history` returns to be shown (imports matplotlib)."""

from __future__ import annotations

from matplotlib.figure import Figure

__all__ = ["ShownFigure"]


class ShownFigure(Figure):
    """A pyplot figure that a notebook shows once.

    The inline backend shows every figure pyplot holds when a cell ends, so a Figure that
    was also the cell's value was drawn twice. Shown (as a cell's value, or by that
    backend), this one is drawn as any Figure is, then closed in pyplot under the inline
    backend, which would draw it again; it is a matplotlib Figure in every other way.
    """

    _displaying = False

    @property
    def _ipython_display_(self):
        if self._displaying:  # IPython then draws it as any other Figure
            raise AttributeError("_ipython_display_")
        return self._display_once

    def _display_once(self) -> None:
        import matplotlib
        from IPython.display import display
        from matplotlib._pylab_helpers import Gcf

        self._displaying = True
        try:
            display(self)
        finally:
            self._displaying = False
        if "inline" in matplotlib.get_backend():
            manager = next((m for m in Gcf.get_all_fig_managers() if m.canvas.figure is self),
                           None)
            if manager is not None:  # shown: the backend must not show it again
                Gcf.destroy(manager)
