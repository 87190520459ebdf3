"""Local functions share one process: each one's log file holds its own lines, with its own context and metrics."""

from __future__ import annotations

import json
import logging
import sys
import threading

from finscore.observability import logger
from local.function_output import ThreadRoutedStream
from local.gateway import LocalFunction

# Shaped like the real handlers: the shared package's logger and metrics, Powertools' decorators.
HANDLER = '''
from finscore.observability import logger, metrics


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event, context):
    event["barrier"].wait()  # both invocations have their Lambda context in place
    logger.info("working")
    print("a plain line")
    metrics.add_metric(name=context.function_name + "Calls", unit="Count", value=1)
    event["barrier"].wait()  # both have added their metric before either flushes
    return context.function_name
'''


def test_two_functions_invoked_at_once_write_only_their_own_lines(tmp_path, monkeypatch):
    # As `finscore` does before anything logs: stdout routed by thread, the logger writing through it.
    routed = ThreadRoutedStream(sys.stdout)
    monkeypatch.setattr(sys, "stdout", routed)
    monkeypatch.setattr(logger.registered_handler, "stream", routed)
    monkeypatch.setattr(logger.registered_handler, "level", logging.INFO)
    monkeypatch.setattr(logger._logger, "level", logging.INFO)
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    functions = {}
    for name in ("alpha_fn", "beta_fn"):
        (tmp_path / f"{name}.py").write_text(HANDLER)
        log = (tmp_path / f"{name}.log").open("w", buffering=1, encoding="utf-8")
        functions[name] = LocalFunction(name, tmp_path / f"{name}.py", output=log)
    barrier = threading.Barrier(2, timeout=30)
    results = {}

    # When both are invoked at the same time, in threads of one process
    threads = [threading.Thread(target=lambda n=name: results.setdefault(n, functions[n].invoke({"barrier": barrier})))
               for name in functions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then each log file holds its function's lines only: its log line, its print, its metric
    assert results == {"alpha_fn": "alpha_fn", "beta_fn": "beta_fn"}
    for name, other in (("alpha_fn", "beta_fn"), ("beta_fn", "alpha_fn")):
        functions[name].output.close()
        lines = (tmp_path / f"{name}.log").read_text().splitlines()
        assert "a plain line" in lines, lines
        records = [json.loads(line) for line in lines if line.startswith("{")]
        logged = [record for record in records if record.get("message") == "working"]
        assert [record["function_name"] for record in logged] == [name]
        emitted = [record for record in records if "_aws" in record]
        assert emitted, lines
        assert [metric["Name"] for record in emitted for metric in record["_aws"]["CloudWatchMetrics"][0]["Metrics"]] \
            == [f"{name}Calls"]
        assert other not in "\n".join(lines)
