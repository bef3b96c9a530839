"""The specs of the built-in cells (to be split into one file per cell with its module)."""
from __future__ import annotations

from torch import nn

from .spec import CellSpec

_TRAINED = ("layers", "hidden", "embedding", "dropout", "bidirectional", "backend", "init", "spectral_radius")

RNN_TANH = CellSpec(
    name="rnn-tanh", title="Vanilla RNN (tanh)", short="RNN (tanh)",
    equations=(r"h_t = \tanh\left(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}\right)",),
    gradient=r"\frac{\partial h_t}{\partial h_{t-1}} = \operatorname{diag}\left(1 - h_t^{2}\right) W_{hh}",
    note="The gradient reaching k steps back is a product of k such Jacobians. |tanh'| ≤ 1, so when the largest "
         "singular value of W_hh is below 1 every factor shrinks it and it vanishes geometrically (Pascanu et al. "
         "2013). A spectral radius ρ(W_hh) below 1 is not enough: for a non-normal W_hh the product can grow for "
         "many steps (ρ > 1 is needed only for it to explode). Gradients shows the measured Jacobian radius and "
         "growth per step.",
    code="RNNCell.step", fused=nn.RNN, fused_kwargs={"nonlinearity": "tanh"}, settings=_TRAINED)

RNN_RELU = CellSpec(
    name="rnn-relu", title="Vanilla RNN (ReLU)", short="RNN (ReLU)",
    equations=(r"h_t = \max\left(0,\; W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}\right)",),
    gradient=r"\frac{\partial h_t}{\partial h_{t-1}} = \operatorname{diag}\left(\mathbb{1}[h_t > 0]\right) W_{hh}",
    note="ReLU does not squash, but it switches units off (ReLU' = 0), and each Jacobian keeps only the active "
         "units' rows. A random W_hh at ρ = 1.2 therefore still decays, by about 0.94 per step in the lab (about half "
         "the units are off). With W_hh = I (IRNN) the factors start near 1, and the first large updates make "
         "the product explode: the clipping twins, where only the clipped twin survives.",
    code="RNNCell.step", fused=nn.RNN, fused_kwargs={"nonlinearity": "relu"}, settings=_TRAINED)

LSTM = CellSpec(
    name="lstm", title="LSTM (gate order i, f, g, o as in torch's nn.LSTM)", short="LSTM",
    equations=(
        r"i_t = \sigma\left(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi}\right) \quad \text{input gate}",
        r"f_t = \sigma\left(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf}\right) \quad \text{forget gate}",
        r"g_t = \tanh\left(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg}\right) \quad \text{candidate}",
        r"o_t = \sigma\left(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho}\right) \quad \text{output gate}",
        r"c_t = f_t \odot c_{t-1} + i_t \odot g_t",
        r"h_t = o_t \odot \tanh(c_t)",
    ),
    gradient=r"\frac{\partial c_t}{\partial c_{t-1}} = \operatorname{diag}(f_t) \;+\; \text{(terms through } h_{t-1}\text{)}",
    note="The cell state is updated additively: while the forget gate stays near 1, gradient flows back "
         "along c almost unchanged. The block radius shown is that of the candidate block W_hg alone; what "
         "gradients meet is the state Jacobian ∂(h, c)_t/∂(h, c)_{t-1}, whose radius and measured growth per "
         "step are shown beside it.",
    code="LSTMCell.step", gates=("input", "forget", "output"), state_parts=("h", "c"), blocks=4, recurrent_block=2,
    fused=nn.LSTM, settings=_TRAINED)

GRU = CellSpec(
    name="gru", title="GRU (torch's variant: r gates W_hn h before it is added)", short="GRU",
    equations=(
        r"r_t = \sigma\left(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr}\right) \quad \text{reset gate}",
        r"z_t = \sigma\left(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz}\right) \quad \text{update gate}",
        r"n_t = \tanh\left(W_{in} x_t + b_{in} + r_t \odot \left(W_{hn} h_{t-1} + b_{hn}\right)\right) \quad \text{candidate}",
        r"h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}",
    ),
    gradient=r"\frac{\partial h_t}{\partial h_{t-1}} = \operatorname{diag}(z_t) \;+\; \text{(terms through } r_t, z_t, n_t\text{)}",
    note="Where the update gate z is near 1 the state, and its gradient, is copied across the step. "
         "The block radius shown is that of the candidate block W_hn alone; the state Jacobian ∂h_t/∂h_{t-1} "
         "(its radius and measured growth per step beside it) is what gradients meet.",
    code="GRUCell.step", gates=("reset", "update"), blocks=3, recurrent_block=2, fused=nn.GRU, settings=_TRAINED)

ESN = CellSpec(
    name="esn", title="Echo state network (fixed leaky tanh reservoir, ridge readout)", short="ESN",
    equations=(
        r"h_t = (1 - a)\, h_{t-1} + a \tanh\left(W_{in} x_t + b + W h_{t-1}\right) \quad \text{fixed, random } W_{in}, W",
        r"y_t = W_{out} h_t, \qquad W_{out} = \arg\min_W \lVert W H - Y \rVert^2 + \lambda \lVert W \rVert^2",
    ),
    gradient=r"\text{no backpropagation: } W_{out} = Y H^\top \left(H H^\top + \lambda I\right)^{-1}",
    note="Nothing recurrent learns: the reservoir's memory is set by its spectral radius ρ(W), leak rate a and "
         "size; only the linear readout is fitted, in closed form, so no gradient can vanish or explode.",
    code="Reservoir._run_direction", trains_by_gradient=False,
    settings=("layers", "hidden", "bidirectional", "spectral_radius", "leak_rate", "input_scaling", "sparsity", "ridge",
              "washout"))
