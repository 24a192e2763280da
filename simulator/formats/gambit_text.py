"""Reading a Gambit game file's text: the bytes, their encoding, and what to tell the user.

Both Gambit formats (``.nfg`` and ``.efg``) are text files that older tools
wrote in Latin-1 and newer ones in UTF-8; :func:`read_game_text` reads either
and says which, so that each reader only parses.
"""

from __future__ import annotations

from pathlib import Path

from simulator.errors import InputError


def read_game_text(path: str | Path) -> tuple[str, list[str]]:
    """The text of the file at ``path`` and the reader's notes about it.

    UTF-8 (with or without a byte-order mark) is tried first; a file that is
    not UTF-8 is read as Latin-1, in which every byte decodes, with a note
    saying so. Raises :class:`~simulator.errors.InputError` when the file
    cannot be read.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise InputError.at(str(path), None, "", f"cannot read the file: {reason}") from None
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        # Older Gambit files come from Latin-1 systems; every byte decodes in it.
        return data.decode("latin-1"), ["the file is not UTF-8; it was read as Latin-1"]
