"""Ringline interactive voice response: flows as data, run over ARI or AGI (not built yet)."""
