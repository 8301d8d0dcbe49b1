"""Step-level Q-value models: collection by tree search, preference pairs, training, reranking."""
