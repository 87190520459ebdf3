"""The serving layer build: it finds the uv that `make install` put in .tools/, so commands run outside make work,
and ships bytecode only when it can write the Lambda runtime's."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from infra.constructs.layers import serving_layer_build


@pytest.fixture
def no_uv_on_path(tmp_path, monkeypatch):
    monkeypatch.delenv("UV", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    return tmp_path


def test_uv_in_tools_is_found_when_none_is_on_the_path(no_uv_on_path, monkeypatch):
    tools_uv = no_uv_on_path / ".tools" / "bin" / "uv"
    tools_uv.parent.mkdir(parents=True)
    tools_uv.write_text("#!/bin/sh\n")
    build = serving_layer_build()
    monkeypatch.setattr(build, "TOOLS_UV", tools_uv)

    assert build.find_uv() == str(tools_uv)


def test_the_uv_environment_variable_comes_first(no_uv_on_path, monkeypatch):
    chosen = no_uv_on_path / "uv"
    chosen.write_text("#!/bin/sh\n")
    monkeypatch.setenv("UV", str(chosen))

    assert serving_layer_build().find_uv() == str(chosen)


def test_without_any_uv_the_error_says_how_to_get_one(no_uv_on_path, monkeypatch):
    build = serving_layer_build()
    monkeypatch.setattr(build, "TOOLS_UV", no_uv_on_path / ".tools" / "bin" / "uv")

    with pytest.raises(FileNotFoundError, match="make install"):
        build.find_uv()


def test_the_runtime_interpreter_is_one_of_its_exact_version_or_none():
    build = serving_layer_build()
    uv = build.find_uv()
    running = "%d.%d" % sys.version_info[:2]

    found = build.runtime_interpreter(running, uv)
    assert found is not None
    reported = subprocess.run([found, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True)
    assert reported.stdout.strip() == str(tuple(sys.version_info[:2]))
    # No interpreter of that version here, and none is downloaded: the layer goes without bytecode.
    assert build.runtime_interpreter("3.99", uv) is None


def test_layer_bytecode_is_the_runtimes_and_never_checked_against_its_source(tmp_path):
    package = tmp_path / "python" / "package"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("VALUE = 1\n")

    assert serving_layer_build().compile_bytecode(tmp_path / "python", sys.executable)

    compiled = package / "__pycache__" / f"__init__.{sys.implementation.cache_tag}.pyc"
    header = compiled.read_bytes()[:8]
    assert header[:4] == importlib.util.MAGIC_NUMBER
    # PEP 552 flags: bit 0 hash-based, bit 1 check the source. The zip's timestamps cannot be trusted.
    assert int.from_bytes(header[4:8], "little") == 0b01
