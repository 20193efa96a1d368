"""Optional extras (``extras: [sdk]`` in lab.yaml): what they require, when they are installed, and what a
learner reads when installing fails (offline). The installer is a fake except in the one ``slow`` test."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Sequence
from pathlib import Path

import pytest

from mlalab import cli, extras
from mlalab.catalog import CatalogError, find_lab, load_lab
from mlalab.extras import ExtraInstallError, InstallResult, ensure_extras, missing, requirements, satisfied

ABSENT = "mlalab-absent-package-for-tests>=1"


class FakeInstaller:
    def __init__(self, returncode: int = 0, output: str = "") -> None:
        self.calls: list[list[str]] = []
        self.result = InstallResult(returncode, output)

    def __call__(self, wanted: Sequence[str]) -> InstallResult:
        self.calls.append(list(wanted))
        return self.result


def pyproject(tmp_path: Path, sdk: list[str]) -> Path:
    path = tmp_path / "pyproject.toml"
    listed = ", ".join(f'"{r}"' for r in sdk)
    path.write_text(f'[project]\nname = "x"\n\n[project.optional-dependencies]\ndev = ["ruff"]\nsdk = [{listed}]\n')
    return path


def with_extras(*names: str):
    return dataclasses.replace(find_lab(1), extras=names)


def test_the_project_pins_sagemaker_core_not_the_meta_package():
    assert requirements("sdk") == ("sagemaker-core>=2.27,<3",)


def test_an_unknown_extra_is_a_catalogue_error_naming_the_defined_ones(tmp_path):
    with pytest.raises(CatalogError, match=r"'gpu'.*defines: dev, sdk"):
        requirements("gpu", pyproject(tmp_path, ["x"]))


def test_satisfied_reads_the_installed_version_against_the_range():
    assert satisfied("pytest>=1")
    assert not satisfied("pytest<1")
    assert not satisfied(ABSENT)


def test_missing_lists_only_what_is_not_installed(tmp_path):
    path = pyproject(tmp_path, ["pytest>=1", ABSENT])
    assert missing(["sdk"], path) == [ABSENT]


def test_a_lab_without_extras_installs_nothing():
    installer = FakeInstaller()
    assert ensure_extras(find_lab(1), installer=installer) == []
    assert installer.calls == []


def test_a_missing_extra_is_installed_once_with_a_message(tmp_path, monkeypatch):
    monkeypatch.delenv(extras.NO_INSTALL, raising=False)
    installer, out = FakeInstaller(), io.StringIO()
    installed = ensure_extras(with_extras("sdk"), installer=installer, out=out,
                              pyproject=pyproject(tmp_path, ["pytest>=1", ABSENT]))
    assert installed == [ABSENT] and installer.calls == [[ABSENT]]
    text = out.getvalue()
    assert text.startswith("Lab 01 can use the SageMaker Python SDK") and f"installing {ABSENT}" in text
    assert f"Installed {ABSENT} in " in text


def test_an_installed_extra_is_not_installed_again(tmp_path):
    installer = FakeInstaller()
    assert ensure_extras(with_extras("sdk"), installer=installer, pyproject=pyproject(tmp_path, ["pytest>=1"])) == []
    assert installer.calls == []


def test_offline_the_learner_reads_what_failed_and_how_to_install_later(tmp_path, monkeypatch):
    monkeypatch.delenv(extras.NO_INSTALL, raising=False)
    pip_said = ("WARNING: Retrying after connection broken\n"
                "ERROR: Could not find a version that satisfies the requirement mlalab-absent-package-for-tests\n")
    installer = FakeInstaller(1, pip_said)
    with pytest.raises(ExtraInstallError) as caught:
        ensure_extras(with_extras("sdk"), installer=installer, out=io.StringIO(),
                      pyproject=pyproject(tmp_path, [ABSENT]))
    message = str(caught.value)
    assert message.startswith(f"could not install {ABSENT} (pip exit 1; are you offline?).")
    assert "Could not find a version that satisfies" in message
    assert "can still be done with boto3" in message
    assert message.endswith(f"-m pip install '{ABSENT}'")


def test_no_install_switch_refuses_without_running_pip(tmp_path, monkeypatch):
    monkeypatch.setenv(extras.NO_INSTALL, "1")
    installer = FakeInstaller()
    with pytest.raises(ExtraInstallError, match="MLALAB_NO_INSTALL is set"):
        ensure_extras(with_extras("sdk"), installer=installer, pyproject=pyproject(tmp_path, [ABSENT]))
    assert installer.calls == []


def test_lab_yaml_extras_reach_the_lab(tmp_path):
    folder = tmp_path / "07_capture"
    folder.mkdir()
    (folder / "lab.yaml").write_text("id: 7\ntitle: T\ntask: '4.1'\nextras: [sdk]\n"
                                     "functions: [{name: f, params: []}]\nchecks: [{id: c, name: C, points: 1}]\n")
    assert load_lab(folder).extras == ("sdk",)
    (folder / "lab.yaml").write_text("id: 7\ntitle: T\ntask: '4.1'\n"
                                     "functions: [{name: f, params: []}]\nchecks: [{id: c, name: C, points: 1}]\n")
    assert load_lab(folder).extras == ()


def test_start_installs_the_labs_extras_and_an_offline_failure_does_not_stop_it(tmp_path, monkeypatch, capsys):
    lab = with_extras("sdk")
    monkeypatch.setattr(cli, "resolve_lab", lambda token, workspace=None: lab)
    asked: list[str] = []

    def offline(which, **_):
        asked.append(which.number)
        raise ExtraInstallError("could not install sagemaker-core (pip exit 1; are you offline?)")

    monkeypatch.setattr(extras, "ensure_extras", offline)
    code = cli.main(["--workspace", str(tmp_path), "start", "1"])
    captured = capsys.readouterr()
    assert code == 0 and asked == ["01"] and (tmp_path / "lab01.py").is_file()
    assert "mlalab start: could not install sagemaker-core (pip exit 1; are you offline?)" in captured.err
    assert "Lab 01:" in captured.out


def test_check_installs_the_labs_extras_before_grading(tmp_path, monkeypatch, capsys):
    lab = with_extras("sdk")
    monkeypatch.setattr(cli, "resolve_lab", lambda token, workspace=None: lab)
    order: list[str] = []
    monkeypatch.setattr(extras, "ensure_extras", lambda which, **_: order.append("extras") or [])
    monkeypatch.setattr(cli, "_grade_and_print",
                        lambda *a: order.append("grade") or type("R", (), {"status": "pass"})())
    assert cli.main(["--workspace", str(tmp_path), "check", "1"]) == 0
    assert order == ["extras", "grade"]


@pytest.mark.slow
def test_the_real_install_uses_the_venvs_pip():
    """Installs sagemaker-core with this interpreter's pip (network or a wheel cache needed)."""
    result = extras.pip_install(list(requirements("sdk")))
    assert result.returncode == 0, result.output
    assert all(satisfied(r) for r in requirements("sdk"))
