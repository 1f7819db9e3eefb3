"""`python -m qualkit.cli` runs the qualkit command."""
from . import main

main()
