"""Text for the terminal: what the user's data and paths say, shown as typed, never interpreted.

A value, sheet name or folder name can contain Rich markup (``[/bold]``,
``[link=...]``), emoji codes or terminal escape sequences (``\\x1b[31m``).
Printed as markup they would crash the CLI, hide text or drive the terminal;
so user text goes to the console as `rich.text.Text` (never parsed as
markup), with control characters shown as Python escapes.

>>> visible("red\\x1b[31m [/i] tab\\there")
'red\\\\x1b[31m [/i] tab\\\\there'
"""
from __future__ import annotations

import re

# C0 and C1 controls, DEL, and the bidirectional overrides that reorder what the terminal shows.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _escape(match: re.Match) -> str:
    c = match.group()
    if c in _NAMED:
        return _NAMED[c]
    return f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}"


def visible(text, keep: str = "") -> str:
    """``text`` with every control character (but those in ``keep``) written as an escape."""
    return _CONTROL.sub(lambda m: m.group() if m.group() in keep else _escape(m), str(text))


def plain(text, style: str | None = None, keep: str = ""):
    """User text as a Rich `Text`: shown literally (no markup, no emoji codes), controls visible."""
    from rich.text import Text

    return Text(visible(text, keep), style=style or "")
