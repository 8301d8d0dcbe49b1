"""Analysis of finished runs: statistics, paired comparisons, pass@k and offline re-scoring."""
