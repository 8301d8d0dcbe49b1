"""The Q-guidance commands (the top layer): ``collect``, ``train``, ``bundle`` and ``pipeline``
run here; ``pairs``, ``compare``, ``passk``, ``rescore`` and ``rubric_distil`` are aliases of
their new homes (``scoring.q.pairs``, ``harness.analysis.*``, ``scoring.rubric.distil``), kept
for one release. The library lives in ``scoring`` (proposers, scorers, reranking, Q models,
rubrics) and ``harness`` (runs, analysis, reports)."""
