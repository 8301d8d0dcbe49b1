"""HotPotQA-style multi-hop QA envs: real HotPotQA files and a generated (synthetic) set.

Modules: ``metrics`` (official normalisation, EM, F1), ``corpus`` (pages, BM25 similar
titles), ``data`` (official-file loader and splits), ``world``/``pages``/``synth`` (the
generated encyclopedia and questions), ``actions`` (parsing, suggested actions), ``oracle``
and ``env`` (the Gymnasium envs).
"""
