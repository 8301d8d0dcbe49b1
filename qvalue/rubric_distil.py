"""``python -m qvalue.rubric_distil``: alias of ``python -m scoring.rubric.distil``
(kept for one release)."""

from scoring.rubric.distil import main

if __name__ == "__main__":
    main()
