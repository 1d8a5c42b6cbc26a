"""The import contracts (pyproject.toml [tool.importlinter], checked by `lint-imports` in
scripts/test.sh) hold today, and they fail when a rule is broken: a copy of the `svardesk`
package gets one forbidden import, and `lint-imports` run on the copy with the project's own
contracts must exit non-zero and name the broken contract and the import."""

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"

CHANNELS = "The conversation core and the other domain apps import no channel"
WORKSPACE = "Domain apps never import the workspace shell"
TICKETS = "Tickets never import conversations (the ticket page is composed above both)"
CORE = "Core stays below every domain app"


def _lint_imports() -> str:
    beside = Path(sys.executable).with_name("lint-imports")
    found = str(beside) if beside.exists() else shutil.which("lint-imports")
    assert found, "lint-imports (import-linter) is not installed"
    return found


def _run(root: Path, config: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports with `config`, finding the `svardesk` package under `root` first."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [_lint_imports(), str(config), "--no-cache", "--no-logo"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def package_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Python modules of `svardesk` and the project's contracts, in a directory of their
    own (templates, static files and catalogues play no part in imports)."""
    root = tmp_path_factory.mktemp("contracts")
    shutil.copytree(
        ROOT / "svardesk",
        root / "svardesk",
        ignore=shutil.ignore_patterns(
            "__pycache__", "static", "templates", "locale", "*.mo", "*.po", "fixtures"
        ),
    )
    shutil.copy(PYPROJECT, root / "pyproject.toml")
    return root


def _contract_names() -> set[str]:
    config = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]
    return {contract["name"] for contract in config["contracts"]}


def test_the_project_keeps_every_contract() -> None:
    result = _run(ROOT, PYPROJECT)

    assert result.returncode == 0, result.stdout + result.stderr
    for name in (CHANNELS, WORKSPACE, TICKETS, CORE):
        assert f"{name} KEPT" in result.stdout


def test_the_contracts_checked_here_are_the_projects() -> None:
    assert {CHANNELS, WORKSPACE, TICKETS, CORE} <= _contract_names()


def test_no_import_is_excused_but_the_tests() -> None:
    """The breaks once listed one by one are gone; a new one is fixed, not listed."""
    config = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]
    for contract in config["contracts"]:
        assert contract.get("ignore_imports", []) == ["svardesk.**.tests.** -> svardesk.**"], (
            contract["name"]
        )


@pytest.mark.parametrize(
    ("module", "imports", "contract"),
    [
        pytest.param(
            "svardesk/conversations/contract_break.py",
            "svardesk.channels.email.models",
            CHANNELS,
            id="the-conversation-core-imports-a-channel",
        ),
        pytest.param(
            "svardesk/tickets/contract_break.py",
            "svardesk.channels.email",
            CHANNELS,
            id="a-domain-app-imports-a-channel",
        ),
        pytest.param(
            "svardesk/ticket_views/contract_break.py",
            "svardesk.workspace.ticket_page",
            WORKSPACE,
            id="a-domain-app-imports-the-workspace",
        ),
        pytest.param(
            "svardesk/channels/email/contract_break.py",
            "svardesk.workspace.settings.common",
            WORKSPACE,
            id="a-channel-imports-the-workspace",
        ),
        pytest.param(
            "svardesk/tickets/contract_break.py",
            "svardesk.conversations.queries",
            TICKETS,
            id="tickets-imports-conversations",
        ),
        pytest.param(
            "svardesk/core/contract_break.py",
            "svardesk.tickets.models",
            CORE,
            id="core-imports-a-domain-app",
        ),
    ],
)
def test_a_forbidden_import_breaks_its_contract(
    package_copy: Path, module: str, imports: str, contract: str
) -> None:
    # Given the copy, which keeps every contract as the project does
    baseline = _run(package_copy, package_copy / "pyproject.toml")
    assert baseline.returncode == 0, baseline.stdout + baseline.stderr
    assert f"{contract} KEPT" in baseline.stdout
    # When one module adds a forbidden import
    broken = package_copy / module
    broken.write_text(f"import {imports}  # noqa: F401\n")
    try:
        result = _run(package_copy, package_copy / "pyproject.toml")
    finally:
        broken.unlink()
    # Then lint-imports fails, naming the contract and the import
    assert result.returncode != 0
    assert f"{contract} BROKEN" in result.stdout
    importer = module.removesuffix(".py").replace("/", ".")
    assert f"{importer} -> {imports}" in result.stdout


def test_a_tests_module_may_import_across_layers(package_copy: Path) -> None:
    """Tests set up the world through any app; only the code they test keeps the rules."""
    broken = package_copy / "svardesk/tickets/tests/contract_break.py"
    broken.write_text("import svardesk.conversations.queries  # noqa: F401\n")
    try:
        result = _run(package_copy, package_copy / "pyproject.toml")
    finally:
        broken.unlink()

    assert result.returncode == 0, result.stdout
    assert f"{TICKETS} KEPT" in result.stdout
