"""The echo-state property of a reservoir (Jaeger 2001): its state must come to depend on the inputs alone.

Run the fixed reservoir on the same inputs from two different random initial states: where the
property holds the two trajectories converge (the initial state is "washed out"), and the readout
sees the same features whatever came before. Where it fails (a spectral radius above 1 with gentle
inputs, say: strong inputs saturate the units and can restore it, so it is measured, not assumed)
they stay apart, the reservoir's state carries its own history rather than the input's, and a
readout fitted on it cannot generalise. Pure torch; the model is only read.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import Tensor

HORIZON = 600  # steps the two trajectories run (the probe's inputs repeated as needed)
TOLERANCE = 1e-3  # the property holds when the final distance is below this share of the initial one


@dataclass
class EchoStateCheck:
    steps: int  # how many steps the two trajectories ran on the same inputs
    washout: int  # the model's washout: the distance is also read there
    distance_at_start: float  # mean distance between the two initial states (per sequence, Euclidean)
    distance_after_washout: float  # ... after `washout` steps
    distance_at_end: float  # ... after `steps` steps
    holds: bool  # distance_at_end < TOLERANCE * distance_at_start: the initial state was forgotten

    def to_dict(self) -> dict:
        return asdict(self)

    def message(self) -> str:
        """One sentence for the UI and the CLI."""
        if self.holds:
            return (f"echo-state property holds: two different initial states end {self.distance_at_end:.2g} apart "
                    f"after {self.steps} steps (from {self.distance_at_start:.2g})")
        return (f"echo-state property fails: two different initial states are still {self.distance_at_end:.3g} "
                f"apart after {self.steps} steps on the same inputs (from {self.distance_at_start:.3g}), so the "
                "reservoir's state depends on where it started, not only on its inputs: lower the spectral radius "
                "(below about 1), or drive it harder with a larger input scaling")


def check_echo_state(reservoir, inputs: Tensor, washout: int, steps: int = HORIZON, seed: int = 0) -> EchoStateCheck:
    """Run `reservoir` (nn.RNN's interface: (B, T, I), state (L*D, B, H)) on `inputs` tiled to `steps` steps,
    from two random initial states (uniform in [-1, 1], the range of tanh), and measure how far apart they stay."""
    batch = inputs.shape[0]
    repeats = -(-steps // inputs.shape[1])
    x = inputs.repeat(1, repeats, *([1] * (inputs.dim() - 2)))[:, :steps]
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        _, final = reservoir(x[:, :1])  # the state's shape
        shape = final.shape
        starts = [(torch.rand(shape, generator=generator) * 2 - 1).to(final) for _ in range(2)]
        runs = [reservoir(x, start)[0] for start in starts]  # (B, T, D*H) each
    gap = (runs[0] - runs[1]).double().norm(dim=-1).mean(dim=0)  # (T,): mean over the batch
    at_start = (starts[0] - starts[1]).double().permute(1, 0, 2).reshape(batch, -1).norm(dim=-1).mean().item()
    after = gap[min(max(washout, 1), steps) - 1].item()
    end = gap[-1].item()
    return EchoStateCheck(steps, washout, at_start, after, end, end < TOLERANCE * at_start)


def echo_state_warning(evals: list[dict]) -> str | None:
    """The latest evaluation's echo-state failure in one sentence, or None (it holds, or there is no reservoir)."""
    checks = [record["echo_state"] for record in evals if record.get("echo_state")]
    if not checks or checks[-1]["holds"]:
        return None
    return EchoStateCheck(**checks[-1]).message()
