"""The serving layer build finds the uv that `make install` put in .tools/, so commands run outside make work."""

from __future__ import annotations

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
