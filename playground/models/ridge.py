"""A linear readout learned in closed form by ridge regression: the trained part of an echo state network.

For features h (N, F) and targets Y (N, K) the readout W minimises

    mean ||[h, 1] W - Y||^2 + ridge * s * ||W without its bias row||^2
    =>  W = (H^T H / n + ridge * s * I') ^-1  H^T Y / n        (H = [h, 1], I' = I with 0 on the bias)

where s is the features' mean square, so `ridge` means the same for a quiet leaky reservoir as for a
loud one (a relative penalty: 1e-6 barely shrinks, 1 shrinks hard).

`observe` adds a batch to the running sums H^T H and H^T Y (float64) and solves again, so after
every batch W is the exact ridge solution for everything seen so far: no learning rate, no epochs,
no backpropagation. Regression targets are the values; class targets are one-hot rows.

Class scores from a regression onto one-hot rows are not probabilities (they hover in [0, 1]), so
for classification the logits are `logit_scale * scores`: one number, fitted to the cross-entropy of
each new batch before it is learned (one Newton step from the previous value, so it settles as
batches arrive). It changes no prediction's ranking, only how confident the probabilities are, which
the loss, bits per character and sampling need.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

MAX_LOGIT_SCALE = 1000.0


class RidgeReadout(nn.Module):
    def __init__(self, features: int, outputs: int, classify: bool, ridge: float) -> None:
        super().__init__()
        self.features, self.outputs, self.classify, self.ridge = features, outputs, classify, ridge
        # Learned, but not by gradient: parameters (so they count, move with .to() and are saved) that no
        # optimiser updates. Until the first batch is learned they are random like nn.Linear's, so an untrained
        # network's outputs, and the gradient-flow probe through it, behave like any other untrained model's.
        bound = features ** -0.5
        self.weight = nn.Parameter(torch.empty(outputs, features).uniform_(-bound, bound), requires_grad=False)
        self.bias = nn.Parameter(torch.empty(outputs).uniform_(-bound, bound), requires_grad=False)
        self.register_buffer("logit_scale", torch.ones(()))
        # running sums of the current fit, in float64 on the CPU whatever the device (MPS has no float64):
        # training scratch, not part of a checkpoint
        self.gram = torch.zeros(features + 1, features + 1, dtype=torch.float64)
        self.moments = torch.zeros(features + 1, outputs, dtype=torch.float64)
        self.count = 0

    def scores(self, h: Tensor) -> Tensor:
        """(..., F) -> (..., K): the linear readout itself."""
        return F.linear(h, self.weight, self.bias)

    def forward(self, h: Tensor) -> Tensor:
        """(..., F) -> (..., K) logits for classification, predicted values for regression."""
        scores = self.scores(h)
        return scores * self.logit_scale if self.classify else scores

    @torch.no_grad()
    def observe(self, h: Tensor, targets: Tensor) -> None:
        """Learn from examples h (N, F) with targets (N,): class ids or values. Re-solves the readout."""
        h64, targets = h.detach().cpu().double(), targets.detach().cpu()
        if self.classify:
            self._calibrate(self.scores(h).detach().cpu().double(), targets)
            wanted = F.one_hot(targets, self.outputs).double()
        else:
            wanted = targets.double().reshape(len(targets), -1)
        design = torch.cat([h64, torch.ones(len(h64), 1, dtype=torch.float64)], dim=1)  # (N, F+1)
        self.gram += design.t() @ design
        self.moments += design.t() @ wanted
        self.count += len(h64)
        self._solve()

    def _solve(self) -> None:
        second_moments = self.gram / self.count
        scale = second_moments.diagonal()[:-1].mean().clamp(min=1e-12)  # the features' mean square
        penalty = torch.full((self.features + 1,), self.ridge * float(scale), dtype=torch.float64)
        penalty[-1] = 0.0  # the bias is not shrunk
        system = second_moments + torch.diag(penalty)
        solution = torch.linalg.solve(system, self.moments / self.count)  # (F+1, K); positive definite: ridge > 0
        self.weight.copy_(solution[:-1].t().to(self.weight))
        self.bias.copy_(solution[-1].to(self.bias))

    def _calibrate(self, s: Tensor, targets: Tensor) -> None:
        """One safeguarded Newton step on the batch's cross-entropy of softmax(scale * s) over `scale` (s: (N, K)
        scores of the readout as solved so far). The loss is convex in scale; the step is halved until the loss
        falls and kept within a factor 2 of the old scale, so a small or separable batch cannot throw it far."""
        if self.count == 0:  # the readout is still its random start: nothing to calibrate
            return
        scale = float(self.logit_scale)
        p = torch.softmax(scale * s, dim=-1)
        expected = (p * s).sum(-1)  # E_p[s]
        gradient = float((expected - s.gather(1, targets[:, None]).squeeze(1)).mean())
        curvature = float(((p * s * s).sum(-1) - expected ** 2).mean())  # Var_p[s] >= 0
        if curvature <= 1e-12:
            return
        loss = F.cross_entropy(scale * s, targets)
        candidate = min(max(scale - gradient / curvature, scale / 2), scale * 2, MAX_LOGIT_SCALE)
        for _ in range(10):
            if F.cross_entropy(candidate * s, targets) < loss:
                self.logit_scale.fill_(candidate)
                return
            candidate = (scale + candidate) / 2
