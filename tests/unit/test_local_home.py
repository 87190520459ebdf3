"""FINSCORE_HOME: the keys kept between runs, and the record by which `finscore invoke` finds the running stack."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys

import pytest

from local import home
from local.cli import main as finscore
from local.embedded_aws import free_port
from local.home import NoRunningStack, api_keys, remove_stack_state, running_stack, write_stack_state

EVENT = "events/recommend_api/recommend.json"


@pytest.fixture
def finscore_home(tmp_path, monkeypatch):
    for variable in ("FINSCORE_API_KEY", "FINSCORE_ADMIN_KEY", "FINSCORE_AWS_PORT"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("FINSCORE_HOME", str(tmp_path))
    return tmp_path


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_keys_are_generated_once_kept_private_and_reused(finscore_home):
    first = api_keys()

    kept = finscore_home / "keys.json"
    assert mode(kept) == 0o600
    assert json.loads(kept.read_text()) == {"api_key": first.api_key, "admin_key": first.admin_key}
    assert first.api_key != first.admin_key
    assert (api_keys().api_key, api_keys().admin_key) == (first.api_key, first.admin_key)
    assert first.origin("FINSCORE_ADMIN_KEY") == f"kept in {kept}"


def test_a_key_from_the_environment_overrides_for_the_run_and_the_other_is_still_kept(finscore_home, monkeypatch):
    # Given only the API key in the environment, on a fresh home
    monkeypatch.setenv("FINSCORE_API_KEY", "from-the-environment")

    # When two runs start
    runs = [api_keys(), api_keys()]

    # Then the API key is the variable's, the admin key is generated once and the same both times
    assert [keys.api_key for keys in runs] == ["from-the-environment"] * 2
    assert runs[0].admin_key == runs[1].admin_key
    kept = json.loads((finscore_home / "keys.json").read_text())
    assert kept["admin_key"] == runs[0].admin_key and kept["api_key"] != "from-the-environment"
    assert runs[0].origin("FINSCORE_API_KEY") == "from FINSCORE_API_KEY"
    # And without the variable the kept API key is back
    monkeypatch.delenv("FINSCORE_API_KEY")
    assert api_keys().api_key == kept["api_key"]


def test_a_recorded_stack_whose_aws_answers_is_found(finscore_home):
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        path = write_stack_state({"aws_port": port, "api_key": "k"})

        assert mode(path) == 0o600
        assert running_stack()["aws_port"] == port


def test_without_a_record_the_answer_says_how_to_start_a_stack(finscore_home):
    with pytest.raises(NoRunningStack, match="make run"):
        running_stack()


def test_a_record_left_by_a_killed_run_is_stale_and_removed(finscore_home):
    # Given the record of a run whose process is gone
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    (finscore_home / "stack.json").write_text(json.dumps({"pid": gone.pid, "aws_port": free_port()}))

    with pytest.raises(NoRunningStack, match="stale"):
        running_stack()
    assert not (finscore_home / "stack.json").exists()


def test_a_run_removes_only_its_own_record(finscore_home):
    (finscore_home / "stack.json").write_text(json.dumps({"pid": os.getpid() + 1, "aws_port": 1}))
    remove_stack_state()
    assert (finscore_home / "stack.json").exists()

    write_stack_state({"aws_port": 1})
    remove_stack_state()
    assert not (finscore_home / "stack.json").exists()


def test_invoke_without_a_running_stack_refuses_and_says_how_to_start_one(finscore_home, capsys, monkeypatch):
    def no_aws_here(*args, **kwargs):
        raise AssertionError("an embedded AWS was started")

    monkeypatch.setattr("local.embedded_aws.EmbeddedAws.start", no_aws_here)
    monkeypatch.chdir(home.ROOT)

    assert finscore(["invoke", "recommend_api", "-e", EVENT]) == 1

    message = capsys.readouterr().err
    assert "No local stack is running" in message and "make run" in message and "--throwaway-aws" in message


def test_invoke_refuses_a_port_where_nothing_answers(finscore_home, capsys, monkeypatch):
    monkeypatch.setenv("FINSCORE_AWS_PORT", str(free_port()))
    monkeypatch.chdir(home.ROOT)

    assert finscore(["invoke", "recommend_api", "-e", EVENT]) == 1
    assert "Nothing answers on FINSCORE_AWS_PORT" in capsys.readouterr().err
