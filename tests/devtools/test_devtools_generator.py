from __future__ import annotations

import csv
import hashlib
from collections import defaultdict
from pathlib import Path

from core.cycles import Cycle
from core.hierarchies import hierarchy_versions, read_seed
from core.reference import reference
from devtools.generator import ProblemRates, generate_inbox
from devtools.generator.figures import CommuneModel, commune_figures
from ingest.pipeline import check_path, list_inbox


def digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            h.update(path.name.encode() + path.read_bytes())
    return h.hexdigest()


def test_deterministic_by_seed(tmp_path: Path) -> None:
    a = generate_inbox(tmp_path / "a", ["2024-Y"], districts=["402"], seed=7)
    b = generate_inbox(tmp_path / "b", ["2024-Y"], districts=["402"], seed=7)
    generate_inbox(tmp_path / "c", ["2024-Y"], districts=["402"], seed=8)
    assert digest(tmp_path / "a") == digest(tmp_path / "b") != digest(tmp_path / "c")
    assert a.planted == b.planted


def test_clean_inbox_loads_without_a_problem(tmp_path: Path) -> None:
    generated = generate_inbox(
        tmp_path,
        ["2024-H1", "2025-Y"],
        districts=["106"],
        rates=ProblemRates.clean(),
        file_format="mixed",
    )
    assert generated.planted == []
    for cycle in generated.cycles:
        paths = list_inbox(tmp_path / cycle)
        assert len(paths) == len(generated.expected_reporters[cycle])
        for path in paths:
            checked = check_path(path, Cycle.parse(cycle))
            assert not checked.problems, (path, checked.problems)


def test_real_units_and_plausible_figures(tmp_path: Path) -> None:
    generated = generate_inbox(
        tmp_path, ["2024-Y"], provinces=["12"], rates=ProblemRates.clean(), file_format="csv"
    )
    ref = reference()
    expected = generated.expected_reporters["2024-Y"]
    communes = [r for r in expected if "-" not in r]
    assert communes == ref.communes_of("pre_reform", "province", "12")
    assert {r.split("-")[1] for r in expected if "-" in r} == {"health", "education", "police"}
    values: dict[str, list[int]] = {}
    for path in list_inbox(tmp_path / "2024-Y"):
        for figure in check_path(path, Cycle.parse("2024-Y")).figures:
            values.setdefault(figure.element_code, []).append(figure.value)
    assert 500 < sum(values["pop_children"]) / len(values["pop_children"]) < 10_000
    births = sum(values["live_births"]) / sum(values["pop_under5"])
    assert 0.15 < births < 0.25  # about a fifth of under-fives are born each year
    with (tmp_path / "scope.csv").open(encoding="utf-8") as handle:
        scope = list(csv.reader(handle))
    assert scope[0] == ["hierarchy", "unit_code"] and ["pre_reform", "12"] in scope


def test_post_reform_cycles_use_successor_communes_and_province_agencies(tmp_path: Path) -> None:
    generated = generate_inbox(tmp_path, ["2025-Y"], districts=["106"], rates=ProblemRates.clean())
    ref = reference()
    expected = generated.expected_reporters["2025-Y"]
    assert "12-health" in expected and not any(r.startswith("106-") for r in expected)
    for code in (r for r in expected if "-" not in r):
        assert ref.commune("post_reform", code) is not None


def test_every_kind_of_problem_is_planted(tmp_path: Path) -> None:
    generated = generate_inbox(
        tmp_path,
        [f"{y}-Y" for y in range(2021, 2025)],
        districts=["402", "874"],
        file_format="mixed",
    )
    kinds = {p.kind for p in generated.planted}
    assert kinds == {
        "missing",
        "late",
        "invalid_file",
        "invalid_row",
        "blank",
        "implausible",
        "superseded",
        "duplicate",
    }
    assert any(p.variant == "spike" for p in generated.planted)


def test_a_post_reform_commune_is_on_its_predecessors_scale() -> None:
    """Its history is its predecessors' figures carried across the reform, summed: every count
    the over-time rules read (a mean of at least 10) stays within their ±33% band."""
    after = hierarchy_versions()[1].id
    parts: dict[str, list[str]] = defaultdict(list)
    for row in read_seed("commune_successions.csv"):
        main = row["hierarchy"] == after and row["is_main_successor"] == "true"
        if main and row["new_province_code"] == "12":  # Lai Châu
            parts[row["new_commune_code"]].append(row["old_commune_code"])
    merged = {code: olds for code, olds in parts.items() if len(olds) >= 2}
    assert len(merged) > 10
    checked = 0
    for code, olds in merged.items():
        models = [CommuneModel(1, old, False) for old in olds]
        post = commune_figures(models, code, Cycle.parse("2025-Y"), 1)
        pre = [commune_figures([m], m.code, Cycle.parse("2024-Y"), 1) for m in models]
        for role, figures in post.items():
            for element, value in figures.items():
                carried = sum(p[role][element] for p in pre)
                if carried >= 10:
                    assert 0.67 <= value / carried <= 1.33, (code, element, value, carried)
                    checked += 1
    assert checked > 500
