"""``python -m qvalue.pairs``: alias of ``python -m scoring.q.pairs`` (kept for one release)."""

import sys

from scoring.q.pairs import main

if __name__ == "__main__":
    sys.exit(main())
