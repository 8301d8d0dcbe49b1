"""LLM policies: one protocol (``base.LLM``), backends ``local`` (llama.cpp in-process),
``openai`` (any OpenAI-compatible endpoint) and ``hf`` (transformers), chosen by a spec
string (``spec.get_policy``)."""
