"""``python -m qvalue.rescore``: alias of ``python -m harness.analysis.rescore``
(kept for one release)."""

import sys

from harness.analysis.rescore import main

if __name__ == "__main__":
    sys.exit(main())
