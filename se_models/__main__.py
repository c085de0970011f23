"""`python -m se_models`: the command line (se_models.cli)."""
import sys

from se_models.cli import main

if __name__ == "__main__":
    sys.exit(main())
