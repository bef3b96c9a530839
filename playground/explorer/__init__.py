"""Inside the model: hidden-state activations over a text, and the units that follow a pattern."""
