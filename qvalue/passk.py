"""``python -m qvalue.passk``: alias of ``python -m harness.analysis.passk``
(kept for one release)."""

import sys

from harness.analysis.passk import main

if __name__ == "__main__":
    sys.exit(main())
