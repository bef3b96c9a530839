"""Numbers for reading: what a table cell, a headline number or an axis label shows.

One rule everywhere, so "2.926733287637822e+34", "8570309099739825000" and "None" never reach a page:
three significant digits, thousands separators for counts, scientific notation (1.2e+34) only outside
0.001 to 1,000,000, "–" for a missing value, "∞" and "NaN" by name.
"""
from __future__ import annotations

import math

MISSING = "–"


def readable(value, digits: int = 3) -> str:
    """`value` in `digits` significant digits: 0.0123, 48.5, 1,234, 2.93e+34; '–' for None."""
    if value is None or isinstance(value, bool):
        return MISSING if value is None else str(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "∞" if number > 0 else "−∞"
    if number == 0:
        return "0"
    size = abs(number)
    if size >= 1e6 or size < 1e-3:
        mantissa, exponent = f"{number:.{max(digits - 1, 0)}e}".split("e")
        mantissa = mantissa.rstrip("0").rstrip(".") if "." in mantissa else mantissa
        return f"{mantissa}e{int(exponent):+d}"
    if size >= 10 ** digits:  # a count: every digit, grouped
        return f"{number:,.0f}"
    decimals = max(digits - 1 - math.floor(math.log10(size)), 0)
    text = f"{number:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def tick_label(value: float) -> str:
    """An axis label on a log axis: 0.001, 0.5, 1, 20, 5000, then powers of ten as plotly draws them raised,
    10<sup>5</sup> and 2×10<sup>−6</sup> (never a bare mantissa, and never "10000" beside "1e+6")."""
    if value == 0 or not math.isfinite(value):
        return readable(value)
    if 1e-3 <= abs(value) < 1e4:
        return f"{value:.10g}"
    mantissa, exponent = f"{value:.0e}".split("e")
    power = f"10<sup>{int(exponent)}</sup>".replace("-", "−")
    return power if mantissa == "1" else f"{mantissa}×{power}"
