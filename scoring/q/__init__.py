"""Step-level Q-value models: tree search (MCTS), preference pairs, the encoder and lm-dpo
models and their training, and the bundled models (``artifacts/``)."""
