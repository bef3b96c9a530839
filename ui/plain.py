"""Show text a user or a file supplied (run names, file names, dataset names, error messages) as text.

Streamlit renders st.markdown, st.caption, st.subheader, st.error and friends as markdown, so a run
named `![x](http://host/x.png)` would make every viewer's browser fetch that address. `plain` escapes
every character markdown (and Streamlit's own :colour[] / :material/ directives and $math$) reads.
"""
from __future__ import annotations

import re

_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$&=^\"'])")


def plain(text: object) -> str:
    """`text` with every markdown-significant character backslash-escaped; newlines kept as line breaks."""
    escaped = _SPECIAL.sub(r"\\\1", str(text))
    return escaped.replace("\n", "  \n")
