"""A spare training process: torch and the library already imported, waiting for a run to train.

Importing torch, and torch._dynamo that the first optimizer imports, takes most of a run's start-up
(measured here: 2-5 s of it on a 2-core machine), so the app keeps one spare process ready (`jobs.start` spawns it) and hands it the
next run id on its standard input; it then trains that run exactly as `python -m playground train
--run ID --quiet` would, writing to the run's log. End of input (the app went away) ends it.

    python -m playground.runstore.spare        # reads one run id from stdin
"""
from __future__ import annotations

import os
import sys


def warm_up() -> None:
    """One tiny step of each fused recurrent module and of Adam, so a run's first step does not pay for setting
    up oneDNN and the optimiser's kernels (measured: 0.1-0.2 s of a char LSTM's first step on a 2-core CPU).
    The global random state is left as it was."""
    import torch

    with torch.random.fork_rng(devices=[]):
        for module in (torch.nn.LSTM, torch.nn.GRU, torch.nn.RNN):
            rnn = module(8, 8, batch_first=True)
            optimizer = torch.optim.Adam(rnn.parameters())
            out, _ = rnn(torch.randn(2, 3, 8))
            out.sum().backward()
            optimizer.step()


def main() -> int:
    import torch._dynamo  # noqa: F401  torch's first optimizer imports it lazily: 1-3 s a run would otherwise wait

    from .. import cli  # the whole training path: torch, tasks, models, trainer, store

    warm_up()  # while nobody waits: the spare is made before anyone presses Start

    run_id = sys.stdin.readline().strip()
    if not run_id:  # the app closed the pipe without a run: nothing to do
        return 0
    from .store import RunStore

    log = os.open(RunStore().log_path(run_id), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)  # from here on, everything the run prints goes to its log, as with a fresh child
    os.dup2(log, 2)
    os.close(log)
    return cli.main(["train", "--run", run_id, "--quiet"])


if __name__ == "__main__":
    sys.exit(main())
