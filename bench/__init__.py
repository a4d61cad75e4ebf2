"""npdeep's benchmark suite: npdeep against PyTorch CPU, scikit-learn and the article's loop.

Run it with ``python bench/run.py`` (see ``bench/README.md``). Nothing here is imported by the
package itself; the suite lives outside ``src/`` so that PyTorch never becomes a dependency.
"""
