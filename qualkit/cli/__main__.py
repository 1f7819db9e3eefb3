"""`python -m qualkit.cli` runs the qualkit command."""
from qualkit.cli import main

main()
