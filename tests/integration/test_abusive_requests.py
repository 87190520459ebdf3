"""Abusive but well-formed requests get a 4xx in the error shape from every route, never a 5xx.

JSON nested a thousand levels deep or holding a 5,000-digit number is valid JSON that Python's parser
cannot take (RecursionError, ValueError); a body past the size limit is refused before parsing; a
cursor that decodes but names a key the listing cannot start from would fail inside DynamoDB.
"""

from __future__ import annotations

import pytest

from finscore import resources
from finscore.api.limits import MAX_BODY_BYTES
from finscore.dynamo import encode_cursor
from finscore.products import all_functions
from local.apigw import http_event
from tests.handlers import invoke

PATH_VALUES = {"{product}": "risk", "{intervention_id}": "iv-1", "{customer_id}": "C000001", "{user_id}": "U00001",
               "{name}": "credit", "{file}": "table.csv"}
# Routes whose body is a file, stored as it is and never parsed as a request: only its size is limited.
RAW_BODY_ROUTES = {("PUT", "/custom-models/{name}/files/{file}")}
ABUSIVE_BODIES = {
    "nested 1000 deep": ("[" * 1000 + "]" * 1000, 400),
    "nested 65 deep": ('{"a":' * 65 + "1" + "}" * 65, 400),
    "a 5,000-digit number": ('{"age": ' + "9" * 5000 + "}", 400),
    "a number past float range": ('{"age": 1e999}', 400),
    "NaN": ('{"age": NaN}', 400),
    "a body past the size limit": ('{"pad": "' + "x" * MAX_BODY_BYTES + '"}', 413),
}


def _body_routes():
    for spec in all_functions():
        for method, template, _ in spec.all_routes:
            if method in ("POST", "PATCH", "PUT") and (method, template) not in RAW_BODY_ROUTES:
                path = template
                for parameter, value in PATH_VALUES.items():
                    path = path.replace(parameter, value)
                yield spec.name, method, resources.API_BASE_PATH + path


@pytest.mark.parametrize("function,method,path", list(_body_routes()))
def test_abusive_bodies_are_refused_in_the_error_shape(aws, function, method, path):
    for name, (body, status) in ABUSIVE_BODIES.items():
        event = http_event(method, path, body=body, headers={"Content-Type": "application/json",
                                                             "Idempotency-Key": "abuse-1"})
        got, answer = invoke(function, event)
        assert got == status, (name, answer)
        assert answer["error"]["code"] and answer["error"]["details"][0]["field"] == "body", (name, answer)


def test_a_file_past_the_size_limit_is_refused(aws):
    for method, template in RAW_BODY_ROUTES:
        path = template.replace("{name}", "credit").replace("{file}", "table.csv")
        event = http_event(method, resources.API_BASE_PATH + path, body="x" * (MAX_BODY_BYTES + 1),
                           headers={"Content-Type": "text/csv"})
        got, answer = invoke("custom_api", event)
        assert got == 413 and answer["error"]["details"][0]["field"] == "body", answer


FORGED_KEYS = [
    {"foo": {"S": "x"}},
    {"customer_id": {"S": "C1"}, "risk_score": {"N": "1e999999"}, "score_partition": {"S": "scored"}},
]


@pytest.mark.parametrize("listing,path,query", [
    ("customers", "/v1/risk/customers", {"q": "C"}),
    ("high-risk", "/v1/risk/high-risk", {}),
    ("interventions:*:*", "/v1/risk/interventions", {}),
])
def test_a_forged_cursor_is_a_400_not_a_storage_failure(aws, risk_champion, listing, path, query):
    for key in FORGED_KEYS:
        event = http_event("GET", path, query={**query, "cursor": encode_cursor(listing, key)})
        status, answer = invoke("risk_api", event)
        assert status == 400 and answer["error"]["details"][0]["field"] == "cursor", answer
