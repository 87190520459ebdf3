"""Loads a function's handler by path under a unique module name: functions/<folder>/handler.py of its spec."""

from __future__ import annotations

import importlib.util
import copy
import json
import sys
from pathlib import Path
from types import ModuleType
from urllib.parse import quote_plus

from tests.granted_calls import CURRENT_FUNCTION

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "events"


def load_handler(function: str) -> ModuleType:
    from finscore.products import function as function_spec

    module_name = f"finscore_function_{function}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    folder = function_spec(function).folder
    spec = importlib.util.spec_from_file_location(module_name, ROOT / "functions" / folder / "handler.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    handler = module.lambda_handler

    def as_function(event: dict, context: object) -> object:
        # SDK calls made meanwhile are this function's (tests/granted_calls.py checks them).
        token = CURRENT_FUNCTION.set(function)
        try:
            return handler(event, context)
        finally:
            CURRENT_FUNCTION.reset(token)

    module.lambda_handler = as_function
    return module


def load_event(function: str, case: str) -> dict:
    return json.loads((EVENTS / function / f"{case}.json").read_text())


class FakeContext:
    function_name = "finscore-test"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:finscore-test"
    aws_request_id = "00000000-0000-0000-0000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 15_000


class HandlerFunction:
    """A function's real handler, as the local gateway invokes it."""

    def __init__(self, name: str):
        self.name = name

    def invoke(self, event: dict) -> dict:
        return load_handler(self.name).lambda_handler(event, FakeContext())


def run_retrain(event: dict) -> dict:
    """The retrain function's handler (a custom model's run when EVENT names one)."""
    return load_handler("model_retrain").lambda_handler(event, FakeContext())


def invoke(function: str, event: dict) -> tuple[int, dict | str]:
    """Call the handler; returns (status, parsed JSON body or text)."""
    response = load_handler(function).lambda_handler(event, FakeContext())
    body = response.get("body") or ""
    try:
        return response["statusCode"], json.loads(body)
    except json.JSONDecodeError:
        return response["statusCode"], body


def s3_notification_event(function: str, case: str, bucket: str, key: str) -> dict:
    """events/<function>/<case>.json (an S3 notification inside an SQS record) aimed at BUCKET/KEY,
    with the key URL-encoded as S3 sends it."""
    event = copy.deepcopy(load_event(function, case))
    body = json.loads(event["Records"][0]["body"])
    body["Records"][0]["s3"]["bucket"]["name"] = bucket
    body["Records"][0]["s3"]["object"]["key"] = quote_plus(key)
    event["Records"][0]["body"] = json.dumps(body)
    return event


def s3_event(function: str, case: str, bucket: str, key: str) -> dict:
    """events/<function>/<case>.json, an S3 event as S3 invokes a function (Records of aws:s3) or as
    EventBridge delivers it (Object Created), aimed at BUCKET/KEY with the key URL-encoded."""
    event = copy.deepcopy(load_event(function, case))
    if "detail" in event:
        event["detail"]["bucket"]["name"] = bucket
        event["detail"]["object"]["key"] = quote_plus(key)
    else:
        event["Records"][0]["s3"]["bucket"]["name"] = bucket
        event["Records"][0]["s3"]["object"]["key"] = quote_plus(key)
    return event


def seed_product(names: dict, product: str, **options) -> dict:
    """Run PRODUCT's seed hook (its spec's) with its current champion, as the local run does."""
    from finscore.products import product as product_spec
    from finscore.products.scoring import champion
    from finscore.products.spec import load

    return load(product_spec(product).seed)(names, champion(product).get(), **options)
