"""Where the CC BY-NC reference data lives (beside the checkout, never inside it).

Tests that compare with CURI's released files read them from ``../shared/reference/data/curi``
(or ``$PIX2CODE_REFERENCE/data/curi``) and *fail* when a file is absent: the data is never
copied into the repository (CC BY-NC), and a fidelity check that silently skips checks nothing.
"""

import os
from pathlib import Path

REFERENCE_ROOT = Path(os.environ.get("PIX2CODE_REFERENCE", Path(__file__).resolve().parents[2] / "shared" / "reference"))
CURI_REFERENCE = REFERENCE_ROOT / "data" / "curi"


def require(path: Path) -> Path:
    """``path``, or a failure that says where the reference data is expected."""
    if not path.is_file():
        raise AssertionError(
            f"CURI reference data {path} is missing: these tests need CURI's released files beside the "
            "checkout (../shared/reference/data/curi) or under $PIX2CODE_REFERENCE/data/curi"
        )
    return path
