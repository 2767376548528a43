"""A seeded slice of the random-fault campaign (tests/faults/campaign.py; the full run is
``python -m tests.faults.campaign --runs 320``): every write ends verified-and-right or failed,
nothing outside the region changes, and no exception other than an EsptkError escapes."""

from __future__ import annotations

import pytest

from .campaign import make_case, run_case

SEEDS = range(1000, 1016)  # both chips, stub and ROM, four cases each


@pytest.mark.parametrize("seed", SEEDS)
def test_random_faults_never_give_a_wrong_result(seed: int) -> None:
    out = run_case(make_case(seed))
    assert out.kind in ("ok", "failed"), f"{out.case.faults}: {out.kind}: {out.detail}"
