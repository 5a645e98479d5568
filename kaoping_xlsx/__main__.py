"""``python -m kaoping_xlsx`` runs the ``kaoping`` command."""

from .cli import main

main()
