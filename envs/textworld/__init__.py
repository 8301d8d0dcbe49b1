"""TextWorld envs on the real engine: generated challenge games and user-supplied game files.

Modules: ``families`` (the four challenge families and their difficulty settings; no
textworld import), ``generate`` (deterministic generation with an atomic on-disk cache),
``engine`` (one loaded game with cheap state capture) and ``env`` (the Gymnasium envs).
"""
