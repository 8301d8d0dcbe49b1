"""``python -m qvalue.compare``: alias of ``python -m harness.analysis.compare``
(kept for one release)."""

import sys

from harness.analysis.compare import main

if __name__ == "__main__":
    sys.exit(main())
