"""The package installs as a real distribution: one schema (package data), templates, a console script."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import REPO, SCRIPTS, cli_env

from dpbench_report.html_report import environment
from dpbench_report.load import packaged_schema
from dpbench_report.report_tables import Cell

PACKAGE = SCRIPTS / "dpbench_report"
SCHEMA = PACKAGE / "schema" / "dpbench-results.schema.json"
OLD_SCHEMA = "core/results/dpbench-results.schema.json"
SUBCOMMANDS = ("report", "plot", "compare", "validate", "export")


def _source_files() -> list[Path]:
    """The repository's own files (not build trees, venvs or outputs)."""
    top = [p for p in REPO.iterdir() if not p.name.startswith((".", "build", "out", "gpu-validate-out"))]
    files = [p for p in top if p.is_file()]
    for d in (p for p in top if p.is_dir()):
        files += [f for f in d.rglob("*") if f.is_file() and "__pycache__" not in f.parts
                  and not any(part.startswith("build") or part.endswith(".egg-info") for part in f.parts)]
    return files


def test_one_schema_file_and_everything_points_at_it() -> None:
    schemas = [p for p in _source_files() if p.name.endswith(".schema.json")]
    assert schemas == [SCHEMA]
    assert Path(str(packaged_schema())).resolve() == SCHEMA.resolve()
    assert "scripts/dpbench_report/schema/dpbench-results.schema.json" in (REPO / "bench" / "CMakeLists.txt").read_text()
    stale = [str(p.relative_to(REPO)) for p in _source_files()
             if p.suffix in (".txt", ".cpp", ".h", ".cu", ".cmake", ".sh", ".md", ".toml", ".json")
             and p.name != Path(__file__).name and "fixtures" not in p.parts
             and OLD_SCHEMA in p.read_text(encoding="utf-8", errors="replace")]
    assert not stale, f"still naming {OLD_SCHEMA}: {stale}"


def test_templates_are_reachable_as_reports_templates() -> None:
    assert (REPO / "reports" / "templates").resolve() == (PACKAGE / "templates").resolve()
    assert (REPO / "reports" / "templates" / "report.html.j2").is_file()


def test_templates_autoescape_everything_but_the_stylesheet() -> None:
    env = environment()
    names = env.list_templates()
    assert "report.html.j2" in names and "report.css" in names
    assert callable(env.autoescape)
    assert all(env.autoescape(n) for n in names if n.endswith(".j2"))
    macros = env.get_template("macros.html.j2").module
    html = str(macros.cell(Cell('<b onclick="x">&</b>', note="<i>", css='"><script>')))  # type: ignore[attr-defined]
    assert "<b onclick" not in html and "<script>" not in html and "<i>" not in html
    assert "&lt;b onclick=&#34;x&#34;&gt;&amp;&lt;/b&gt;" in html


def _can_build_wheels() -> bool:
    try:
        from setuptools.command.bdist_wheel import bdist_wheel  # noqa: F401  (setuptools >= 70.1)
    except ImportError:
        return importlib.util.find_spec("wheel") is not None
    return True


@pytest.mark.skipif(not _can_build_wheels(), reason="needs setuptools >= 70.1 (the [test] extra) or wheel")
def test_wheel_ships_schema_templates_and_console_script(tmp_path: Path) -> None:
    """Build a wheel offline from a copy of scripts/ (no network, no files left in the checkout)."""
    src = tmp_path / "src"
    shutil.copytree(SCRIPTS / "dpbench_report", src / "dpbench_report",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy(SCRIPTS / "pyproject.toml", src / "pyproject.toml")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                           "--disable-pip-version-check", "-q", "-w", str(tmp_path / "dist"), str(src)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (wheel,) = (tmp_path / "dist").glob("dpbench_report-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        entry_points = next(z.read(n).decode() for n in names if n.endswith("entry_points.txt"))
    expected = {"dpbench_report/schema/dpbench-results.schema.json", "dpbench_report/py.typed"}
    expected |= {f"dpbench_report/templates/{p.name}" for p in (PACKAGE / "templates").iterdir()}
    assert expected <= names, expected - names
    assert "dpbench-report = dpbench_report.cli:main" in entry_points


def test_console_script_lists_every_subcommand() -> None:
    script = Path(sys.executable).parent / "dpbench-report"
    if not script.exists():
        pytest.skip(f"no dpbench-report beside {sys.executable} (install with pip install -e scripts)")
    proc = subprocess.run([str(script), "--help"], capture_output=True, text=True, env=cli_env(), timeout=60)
    assert proc.returncode == 0, proc.stderr
    for command in SUBCOMMANDS:
        assert command in proc.stdout
