"""The web ACL in front of the REST API: managed rules, the rate limit per IP, metrics, the stage it guards."""

from __future__ import annotations

import json

import pytest


@pytest.fixture(scope="module")
def web_acl(synthesized) -> dict:
    (acl,) = synthesized.resources("AWS::WAFv2::WebACL").values()
    return acl["Properties"]


def _rules(web_acl: dict) -> dict[str, dict]:
    return {rule["Name"]: rule for rule in web_acl["Rules"]}


def test_the_web_acl_is_regional_and_allows_what_no_rule_blocks(web_acl):
    assert web_acl["Scope"] == "REGIONAL"
    assert web_acl["DefaultAction"] == {"Allow": {}}


def test_managed_rules_guard_the_api_but_large_scoring_bodies_pass(web_acl):
    rules = _rules(web_acl)
    common = rules["AWSManagedRulesCommonRuleSet"]["Statement"]["ManagedRuleGroupStatement"]
    assert common["VendorName"] == "AWS"
    # Batch scoring bodies exceed the rule group's 8 KB: that rule counts, every other rule blocks.
    assert common["RuleActionOverrides"] == [{"Name": "SizeRestrictions_BODY", "ActionToUse": {"Count": {}}}]
    bad_inputs = rules["AWSManagedRulesKnownBadInputsRuleSet"]["Statement"]["ManagedRuleGroupStatement"]
    assert bad_inputs["VendorName"] == "AWS" and "RuleActionOverrides" not in bad_inputs
    for name in ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"):
        assert rules[name]["OverrideAction"] == {"None": {}}


def test_one_ip_is_rate_limited_with_the_cdk_json_limit_and_the_finscore_error_shape(web_acl, context):
    rule = _rules(web_acl)["RateLimitPerIp"]
    statement = rule["Statement"]["RateBasedStatement"]
    assert statement["AggregateKeyType"] == "IP"
    assert statement["Limit"] == context["wafRateLimitPer5Min"]
    response = rule["Action"]["Block"]["CustomResponse"]
    assert response["ResponseCode"] == 429
    body = json.loads(web_acl["CustomResponseBodies"][response["CustomResponseBodyKey"]]["Content"])
    assert set(body["error"]) == {"code", "message", "details"} and body["error"]["code"] == "throttled"


def test_every_rule_and_the_acl_publish_metrics_and_samples(web_acl):
    configs = [web_acl["VisibilityConfig"], *(rule["VisibilityConfig"] for rule in web_acl["Rules"])]
    assert all(config["CloudWatchMetricsEnabled"] and config["SampledRequestsEnabled"] for config in configs)
    assert len({config["MetricName"] for config in configs}) == len(configs)
    assert sorted(rule["Priority"] for rule in web_acl["Rules"]) == list(range(len(web_acl["Rules"])))


def test_the_web_acl_guards_the_api_stage(synthesized):
    (association,) = synthesized.resources("AWS::WAFv2::WebACLAssociation").values()
    (acl_id,) = synthesized.resources("AWS::WAFv2::WebACL")
    (stage_id,) = synthesized.resources("AWS::ApiGateway::Stage")
    (api_id,) = synthesized.resources("AWS::ApiGateway::RestApi")
    properties = association["Properties"]
    assert properties["WebACLArn"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    arn = json.dumps(properties["ResourceArn"])
    assert f'{{"Ref": "{api_id}"}}' in arn and f'{{"Ref": "{stage_id}"}}' in arn and "/stages/" in arn
