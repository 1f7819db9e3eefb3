"""Implementation frameworks (HEIF, CFIR 2.0, CFIR 2009, i-PARIHS, RE-AIM, EPIS): loading them and resolving references to their items."""
