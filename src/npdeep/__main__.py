"""``python -m npdeep`` runs the command line."""

from .cli import main

main()
