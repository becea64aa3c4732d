"""`python -m eval.run TARGET`: the same as `rag eval TARGET` (rag/evaluation/run.py), from a checkout."""

import sys

from rag.evaluation.run import main

if __name__ == "__main__":
    sys.exit(main())
