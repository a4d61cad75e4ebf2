"""``python -m npdeep`` runs the command line (the same as the ``npdeep`` command)."""

from .cli import main

if __name__ == "__main__":
    main(prog_name="npdeep")
