"""The dev tools stay out of the product: the wheel holds neither them nor what only tests use,
and `python -m devtools generate` keeps its usage errors short."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

from click.testing import CliRunner

from devtools.__main__ import main
from tests.conftest import ROOT

DEV_ONLY = {"devtools", "generator", "aiosmtpd", "openpyxl"}


def test_the_wheel_ships_no_dev_tool() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    dependencies = " ".join(project["project"]["dependencies"])
    assert not DEV_ONLY & set(packages)
    assert "aiosmtpd" not in dependencies and "openpyxl" not in dependencies
    for package in packages:
        for source in (ROOT / package).rglob("*.py"):
            tree = ast.parse(source.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                names = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                    if isinstance(node, ast.ImportFrom)
                    else []
                )
                assert not {n.split(".")[0] for n in names} & DEV_ONLY, source


def test_generate_refuses_a_cycle_before_any_hierarchy(tmp_path: Path) -> None:
    args = ["generate", "--cycles", "2024-Y,2005-Y", "--inbox", str(tmp_path / "inbox")]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "Invalid value for --cycles: '2005-Y' is before 2011" in result.output
