"""Built-in corpora that need no network: made by the project or shipped with Python itself."""
from __future__ import annotations

import hashlib
import random
import sysconfig
from dataclasses import dataclass
from pathlib import Path
from typing import Callable


@dataclass(frozen=True)
class Corpus:
    name: str  # the name used in configs and on the command line
    title: str  # a short human title
    description: str  # one sentence for the Data page
    load: Callable[[int], str]  # returns at most `max_chars` characters of text
    default_max_chars: int  # the cap used unless a run asks for another
    # True for a corpus of short lines that repeat (a toy grammar): the held-out text is then chosen line by line
    # by a hash of the line, so no held-out line ever occurs in training (False: the last share of the text)
    disjoint_lines: bool = False


def tiny_text(max_chars: int = 60_000, seed: int = 1234) -> str:
    """A small, regular corpus from a toy grammar: a model learns its words within seconds."""
    rng = random.Random(seed)
    subjects = ["the cat", "the dog", "a bird", "my friend", "the teacher", "a small robot", "the old man"]
    verbs = ["sees", "likes", "finds", "follows", "draws", "paints", "remembers"]
    objects = ["the red ball", "a green tree", "the blue house", "a long river", "the yellow moon", "a quiet song"]
    endings = [".", ".", ".", "!", "?"]
    where = ["", "", " in the garden", " at night", " by the sea", " every morning"]
    lines, size = [], 0
    while size < max_chars:
        sentence = f"{rng.choice(subjects)} {rng.choice(verbs)} {rng.choice(objects)}{rng.choice(where)}{rng.choice(endings)}"
        sentence = sentence[0].upper() + sentence[1:]
        lines.append(sentence)
        size += len(sentence) + 1
    return "\n".join(lines)[:max_chars]


def pydoc_text(max_chars: int) -> str:
    """The prose of Python's own documentation topics (`pydoc_data`), in a fixed order."""
    from pydoc_data.topics import topics

    return "\n\n".join(topics[key] for key in sorted(topics))[:max_chars]


def stdlib_text(max_chars: int) -> str:
    """Python source code of the standard library's top-level modules, alphabetically."""
    root = Path(sysconfig.get_paths()["stdlib"])
    parts, size = [], 0
    for path in sorted(root.glob("*.py")):
        try:
            source = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        parts.append(f"# ---- {path.name} ----\n{source}")
        size += len(parts[-1])
        if size >= max_chars:
            break
    return "\n".join(parts)[:max_chars]


BUILTIN = {
    corpus.name: corpus
    for corpus in (
        Corpus("tiny", "Tiny sentences", "Short generated sentences from a toy grammar; learns in seconds.", tiny_text, 60_000,
               disjoint_lines=True),
        Corpus("pydoc", "Python documentation", "The prose of Python's documentation topics (pydoc_data).", pydoc_text, 500_000),
        Corpus("stdlib", "Python source code", "Source code of Python's standard library, like char-rnn's Linux C.", stdlib_text, 1_000_000),
    )
}


def split_by_line(text: str, fraction: float, seed: int = 0) -> tuple[str, str]:
    """(training text, held-out text): each distinct line goes wholly to one side by a seeded hash of the line,
    so the held-out text shares no line with training; about `fraction` of the distinct lines are held out."""
    train, held = [], []
    for line in text.split("\n"):
        digest = hashlib.sha256(f"{seed}:{line}".encode()).digest()
        (held if int.from_bytes(digest[:8], "big") / 2 ** 64 < fraction else train).append(line)
    return "\n".join(train), "\n".join(held)
