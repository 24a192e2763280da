"""Game file formats that negsim reads and writes.

:mod:`simulator.formats.nfg`: Gambit's strategic-form ``.nfg`` files (both the
payoff-list and the outcome-list variants).

The readers turn files into :class:`~simulator.game.StrategicGame` objects and
report every problem as :class:`~simulator.errors.InputError` with file, line and
field; the writers produce text that the readers (and Gambit) read back.
"""

from __future__ import annotations

from simulator.formats.nfg import (
    NfgDocument,
    parse_nfg,
    parse_nfg_document,
    read_nfg,
    read_nfg_document,
    save_nfg,
    write_nfg,
)

__all__ = [
    "NfgDocument",
    "parse_nfg",
    "parse_nfg_document",
    "read_nfg",
    "read_nfg_document",
    "save_nfg",
    "write_nfg",
]
