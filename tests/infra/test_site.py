"""The dashboard's site in the template: a private bucket read by CloudFront through origin access control,
security headers, the app's routes answered with index.html, and the built app deployed with its config.json."""

from __future__ import annotations

import json


def _one(synthesized, resource_type: str) -> tuple[str, dict]:
    (found,) = synthesized.resources(resource_type).items()
    return found


def test_the_bucket_is_private_and_read_by_cloudfront_through_origin_access_control(synthesized):
    distribution_id, distribution = _one(synthesized, "AWS::CloudFront::Distribution")
    config = distribution["Properties"]["DistributionConfig"]
    (origin,) = config["Origins"]
    assert "OriginAccessControlId" in origin and origin["S3OriginConfig"]["OriginAccessIdentity"] == ""
    _, control = _one(synthesized, "AWS::CloudFront::OriginAccessControl")
    assert control["Properties"]["OriginAccessControlConfig"]["SigningBehavior"] == "always"
    bucket_id = origin["DomainName"]["Fn::GetAtt"][0]
    bucket = synthesized.resource(bucket_id)["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    # Only this distribution may read the bucket (besides the TLS-only deny every bucket has).
    (policy,) = [p["Properties"]["PolicyDocument"] for p in synthesized.resources("AWS::S3::BucketPolicy").values()
                 if p["Properties"]["Bucket"] == {"Ref": bucket_id}]
    (grant,) = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert grant["Principal"] == {"Service": "cloudfront.amazonaws.com"} and grant["Action"] == "s3:GetObject"
    assert distribution_id in json.dumps(grant["Condition"])


def test_https_only_with_security_headers(synthesized):
    _, distribution = _one(synthesized, "AWS::CloudFront::Distribution")
    behavior = distribution["Properties"]["DistributionConfig"]["DefaultCacheBehavior"]
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    _, policy = _one(synthesized, "AWS::CloudFront::ResponseHeadersPolicy")
    assert behavior["ResponseHeadersPolicyId"] == {"Ref": _one(synthesized, "AWS::CloudFront::ResponseHeadersPolicy")[0]}
    headers = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31_536_000
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    assert headers["ContentTypeOptions"]["Override"] is True
    csp = json.dumps(headers["ContentSecurityPolicy"]["ContentSecurityPolicy"])
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp


def test_app_routes_are_answered_with_the_app(synthesized):
    _, distribution = _one(synthesized, "AWS::CloudFront::Distribution")
    config = distribution["Properties"]["DistributionConfig"]
    assert config["DefaultRootObject"] == "index.html"
    answers = {response["ErrorCode"]: response for response in config["CustomErrorResponses"]}
    for code in (403, 404):
        assert answers[code]["ResponseCode"] == 200 and answers[code]["ResponsePagePath"] == "/index.html"


def test_the_built_app_is_deployed_with_its_runtime_config(synthesized):
    _, deployment = _one(synthesized, "Custom::CDKBucketDeployment")
    properties = deployment["Properties"]
    assert len(properties["SourceObjectKeys"]) == 2  # the built app and config.json
    markers = json.dumps(properties["SourceMarkers"])
    # config.json names the API, the WebSocket API, the hosted UI's domain and the dashboard's client.
    for reference in ("ApiRestApi", "LiveWebSocketApi", "UserPoolDomain", "DashboardClient"):
        assert reference in markers, reference
    assert set(properties["DistributionPaths"]) == {"/index.html", "/config.json"}
    assert "DashboardUrl" in synthesized.template["Outputs"]
