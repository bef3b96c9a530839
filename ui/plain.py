"""Show text a user or a file supplied (run names, file names, dataset names, error messages) as text.

Streamlit renders st.markdown, st.caption, st.subheader, st.error and friends as markdown, so a run
named `![x](http://host/x.png)` would make every viewer's browser fetch that address. `plain` escapes
every character markdown (and Streamlit's own :colour[] / :material/ directives and $math$) reads.
"""
from __future__ import annotations

import re

_INLINE = re.compile(r"([\\`*_{}\[\]<>!|~:$&])")  # links, images, emphasis, code, html, :directives:, $math$
_LINE_START = re.compile(r"^(\s*)([#>+=-]|\d+[.)])", re.MULTILINE)  # headings, quotes, lists at a line's start


def plain(text: object) -> str:
    """`text` with every markdown-significant character backslash-escaped; newlines kept as line breaks."""
    escaped = _INLINE.sub(r"\\\1", str(text))
    escaped = _LINE_START.sub(lambda m: m.group(1) + m.group(2)[:-1] + "\\" + m.group(2)[-1], escaped)  # 1\. not \1.
    return escaped.replace("\n", "  \n")
