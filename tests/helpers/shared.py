"""Where the tests find the project's shared material (``../shared`` beside the repository):
DRAMsim3 reference figures and configurations, NASRec's published subnets, the DRAMsim3 peer.
Tests that need it skip, saying why, when it is absent."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
REFERENCE = SHARED / "reference"
DRAMSIM3_REFERENCE = REFERENCE / "dramsim3"
NASREC_REFERENCE = REFERENCE / "nasrec"
DRAMSIM3_PEER = SHARED / "peers" / "dramsim3"
