"""Evaluation that `rag eval` runs: metrics (rag/evaluation/metrics.py) and the gold-set / dataset runs
(rag/evaluation/run.py). The scripts in the top-level eval/ folder are thin wrappers over these."""
