"""Where the CC BY-NC reference data lives (beside the checkout, never inside it).

Tests that compare with CURI's released files read them from ``../shared/reference/data/curi``
(or ``$PIX2CODE_REFERENCE/data/curi``) and skip when the folder is absent.
"""

import os
from pathlib import Path

REFERENCE_ROOT = Path(os.environ.get("PIX2CODE_REFERENCE", Path(__file__).resolve().parents[2] / "shared" / "reference"))
CURI_REFERENCE = REFERENCE_ROOT / "data" / "curi"
