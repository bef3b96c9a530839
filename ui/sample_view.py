"""Generated text as HTML: each character coloured by the probability the model gave it, with the
likeliest alternatives on hover."""
from __future__ import annotations

import html

LEGEND = [(0.02, "under 5%"), (0.12, "5-20%"), (0.35, "20-50%"), (0.65, "50-80%"), (0.95, "over 80%")]  # (shown shade, range)


def shade(probability: float) -> str:
    """A light background from red (a surprising pick) to green (an obvious one)."""
    hue = round(120 * max(0.0, min(1.0, probability)))
    return f"hsl({hue}, 75%, 82%)"


def _visible(char: str) -> str:
    return {"\n": "⏎", " ": "␣", "\t": "⇥"}.get(char, char)


def probability_html(prime: str, text: str, probs: list[float], alternatives: list[list[tuple[str, float]]]) -> str:
    spans = [f"<span style='color:#666'>{html.escape(prime)}</span>"] if prime else []
    for char, p, options in zip(text, probs, alternatives):
        tip = f"p({_visible(char)}) = {p:.1%}. Likeliest: " + ", ".join(f"{_visible(c)} {q:.0%}" for c, q in options)
        spans.append(f"<span title='{html.escape(tip, quote=True)}' style='background:{shade(p)};border-radius:2px'>"
                     f"{html.escape(char)}</span>")
    return ("<div style=\"font-family:'Source Code Pro',monospace;font-size:15px;line-height:1.7;white-space:pre-wrap;"
            f"padding:12px;border:1px solid #ddd;border-radius:6px\">{''.join(spans)}</div>")


def legend_html() -> str:
    items = "".join(f"<span style='background:{shade(p)};padding:2px 8px;margin-right:6px;border-radius:3px'>"
                    f"{label}</span>" for p, label in LEGEND)
    return f"<div style='font-size:13px'>Probability the model gave the character it picked: {items}</div>"
