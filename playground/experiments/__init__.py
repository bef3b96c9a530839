"""Experiments built from runs: the gradient lab and races."""
