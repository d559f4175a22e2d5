"""Guidance (recommendations and the reference list) travels with the batch for guidelines only.

The parsers themselves are tested in test_citations.py and test_recommendations.py."""
from pathlib import Path

import pytest

from extract.pipeline import extract_paths

SEEDS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "seeds"
needs_seeds = pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared/corpus/seeds is absent (shared corpus not mounted)")


def _seed(stem):
    (path,) = [p for p in SEEDS.iterdir() if p.name.startswith(stem)]
    return path


@needs_seeds
def test_guidance_travels_with_the_batch():
    result = extract_paths([_seed("mtor_consensus"), _seed("okuracar2024")])
    assert list(result.guidance) == [_seed("mtor_consensus").name]
    assert len(result.guidance[_seed("mtor_consensus").name]["citations"]) == 57
    recs = result.guidance[_seed("mtor_consensus").name]["recommendations"]
    assert {r["population"] for r in recs} >= {"ITP", "AIHA", "PRCA", "ALPS", "GVHD"}
    assert all(r["outcome"] == "recommendation" and r["evidence"] for r in recs)
