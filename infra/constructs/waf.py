"""The web ACL in front of the REST API's stage: AWS managed rules and a rate limit per client IP.

API keys and usage plans meter clients that have a key; the web ACL stops what reaches the stage
before any key is checked: known exploit patterns (the common and known-bad-inputs rule groups)
and floods from one address (a rate-based rule, cdk.json `wafRateLimitPer5Min`).
"""

from __future__ import annotations

import json

from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

METRIC_PREFIX = "FinScoreApi"
# The common rule set blocks request bodies over 8 KB; a batch score (up to 1,000 records) is
# larger by design, so that one rule only counts, and the stage's own body limit stays in force.
COMMON_RULES_COUNTED = ("SizeRestrictions_BODY",)
RATE_LIMITED_BODY = "RateLimited"
# A request over the rate limit gets FinScore's error shape, as API Gateway's own throttling does.
RATE_LIMITED_RESPONSE = json.dumps(
    {"error": {"code": "throttled", "message": "Too many requests from this address", "details": []}}
)


def _visibility(metric_name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=f"{METRIC_PREFIX}{metric_name}", sampled_requests_enabled=True
    )


def _managed_rule_group(name: str, priority: int, counted: tuple[str, ...] = ()) -> wafv2.CfnWebACL.RuleProperty:
    return wafv2.CfnWebACL.RuleProperty(
        name=name,
        priority=priority,
        override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
        statement=wafv2.CfnWebACL.StatementProperty(
            managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                vendor_name="AWS",
                name=name,
                rule_action_overrides=[
                    wafv2.CfnWebACL.RuleActionOverrideProperty(
                        name=rule, action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={})
                    )
                    for rule in counted
                ]
                or None,
            )
        ),
        visibility_config=_visibility(name),
    )


class ApiFirewall(Construct):
    """A regional WAFv2 web ACL associated with STAGE."""

    def __init__(self, scope: Construct, construct_id: str, *, stage: apigw.Stage, rate_limit_per_5min: int) -> None:
        super().__init__(scope, construct_id)
        rate_rule = wafv2.CfnWebACL.RuleProperty(
            name="RateLimitPerIp",
            # First: a flood is dropped before the managed rules inspect it.
            priority=0,
            action=wafv2.CfnWebACL.RuleActionProperty(
                block=wafv2.CfnWebACL.BlockActionProperty(
                    custom_response=wafv2.CfnWebACL.CustomResponseProperty(
                        response_code=429, custom_response_body_key=RATE_LIMITED_BODY
                    )
                )
            ),
            statement=wafv2.CfnWebACL.StatementProperty(
                rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                    limit=rate_limit_per_5min, aggregate_key_type="IP", evaluation_window_sec=300
                )
            ),
            visibility_config=_visibility("RateLimitPerIp"),
        )
        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            scope="REGIONAL",
            description="FinScore REST API: AWS managed rules and a rate limit per client IP",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            rules=[
                rate_rule,
                _managed_rule_group("AWSManagedRulesCommonRuleSet", 1, COMMON_RULES_COUNTED),
                _managed_rule_group("AWSManagedRulesKnownBadInputsRuleSet", 2),
            ],
            custom_response_bodies={
                RATE_LIMITED_BODY: wafv2.CfnWebACL.CustomResponseBodyProperty(
                    content_type="APPLICATION_JSON", content=RATE_LIMITED_RESPONSE
                )
            },
            visibility_config=_visibility("WebAcl"),
        )
        self.association = wafv2.CfnWebACLAssociation(
            self, "Association", resource_arn=stage.stage_arn, web_acl_arn=self.web_acl.attr_arn
        )
