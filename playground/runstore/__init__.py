"""Runs: the store, executing a run (in this process or a child), checkpoints, exports, histories, summaries."""
