"""The dashboard's site: the built app (dashboard/dist) in a private bucket served by CloudFront through
origin access control, with security headers, every app route answered with index.html, and the
runtime configuration (config.json: API URL, WebSocket URL, Cognito hosted UI) written at deploy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import Acknowledgment, Aws, Duration, Stack, Validations
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from infra.constructs.data import private_bucket

# What `make dashboard` (npm run build in dashboard/) writes; the app is deployed as built.
DIST = Path(__file__).resolve().parents[2] / "dashboard" / "dist"
CONFIG_FILE = "config.json"
BUCKET_LOGICAL_ID = "DashboardSiteBucket"
# The app calls the REST and WebSocket APIs and the Cognito hosted UI's token endpoint, nothing else.
# Inline styles are allowed for the sizes the charts set on their elements; no inline script is.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    f"connect-src 'self' https://*.execute-api.{Aws.REGION}.amazonaws.com wss://*.execute-api.{Aws.REGION}.amazonaws.com "
    f"https://*.auth.{Aws.REGION}.amazoncognito.com; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
)


class DashboardSite(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, access_logs: s3.IBucket) -> None:
        super().__init__(scope, construct_id)
        self.bucket = private_bucket(self, "Bucket", server_access_logs_bucket=access_logs,
                                     server_access_logs_prefix=f"{BUCKET_LOGICAL_ID}/")
        self.bucket.node.default_child.override_logical_id(BUCKET_LOGICAL_ID)
        headers = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            comment="FinScore dashboard: security headers on every answer",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=CONTENT_SECURITY_POLICY, override=True),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN, override=True),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(730), include_subdomains=True, preload=True, override=True),
                xss_protection=cloudfront.ResponseHeadersXSSProtection(protection=True, mode_block=True, override=True),
            ),
        )
        # The app's own routes (/risk/customers, ...) are no objects: the bucket answers 403 to a key it
        # does not hold (no ListBucket for CloudFront), and the app is served in their place.
        spa = [cloudfront.ErrorResponse(http_status=status, response_http_status=200, response_page_path="/index.html",
                                        ttl=Duration.seconds(0)) for status in (403, 404)]
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="FinScore dashboard",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=headers,
                compress=True,
            ),
            error_responses=spa,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            # Edge locations in India are in price class 200.
            price_class=cloudfront.PriceClass.PRICE_CLASS_200,
        )
        self._acknowledge_findings()

    @property
    def origin(self) -> str:
        """The site's origin, as browsers send it: what the API's CORS allows."""
        return f"https://{self.distribution.distribution_domain_name}"

    def deploy(self, runtime_config: dict[str, Any]) -> s3deploy.BucketDeployment:
        """Put the built app and its RUNTIME_CONFIG (config.json) in the bucket, and drop CloudFront's copies
        of the two files that change between deployments (the assets have content hashes in their names)."""
        if not (DIST / "index.html").is_file():
            raise FileNotFoundError(f"{DIST} holds no built dashboard: run `make dashboard` before synthesizing")
        deployment = s3deploy.BucketDeployment(
            self,
            "Deployment",
            sources=[s3deploy.Source.asset(str(DIST)), s3deploy.Source.json_data(CONFIG_FILE, runtime_config)],
            destination_bucket=self.bucket,
            distribution=self.distribution,
            distribution_paths=["/index.html", f"/{CONFIG_FILE}"],
            memory_limit=512,
        )
        self._acknowledge_deployment_findings()
        return deployment

    def _acknowledge_deployment_findings(self) -> None:
        """The copy function is CDK's own (one per stack and memory size): its runtime, role and policy are
        what BucketDeployment makes, and it runs only while CloudFormation deploys the site."""
        singleton = next(child for child in Stack.of(self).node.children
                         if child.node.id.startswith("Custom::CDKBucketDeployment"))
        role = singleton.node.find_child("ServiceRole")
        # The role half of CDK's dependencies is implied by the GetAtt of its ARN (cfn-lint W3005).
        stack = Stack.of(self)
        singleton.node.default_child.add_override(
            "DependsOn", [stack.get_logical_id(role.node.find_child("DefaultPolicy").node.default_child)])
        Validations.of(role).acknowledge(Acknowledgment(
            id="AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
            reason="CDK's BucketDeployment function writes only its own logs with the basic execution role, nothing else.",
        ))
        Validations.of(role.node.find_child("DefaultPolicy")).acknowledge(
            *(Acknowledgment(id=f"AwsSolutions-IAM5[{finding}]", reason=reason) for finding, reason in (
                ("Action::s3:GetBucket*", "BucketDeployment reads the CDK asset bucket and the site bucket, as CDK grants "
                 "it for the copy."),
                ("Action::s3:GetObject*", "BucketDeployment copies the site's built files out of the CDK asset bucket "
                 "into the site bucket."),
                ("Action::s3:List*", "BucketDeployment lists the site bucket to replace its files and prune the ones "
                 "a new build no longer has."),
                ("Action::s3:DeleteObject*", "BucketDeployment removes the files of an earlier build from the site "
                 "bucket when a new build replaces them."),
                ("Action::s3:Abort*", "BucketDeployment aborts its own failed multipart uploads to the site bucket, "
                 "leaving no orphaned parts behind."),
                ("Resource::*", "The CloudFront invalidation of index.html and config.json after a deployment takes "
                 "no resource narrower than *."),
                (f"Resource::<{BUCKET_LOGICAL_ID}.Arn>/*",
                 "Every file of the site bucket is the deployment's to write: the bucket holds nothing else."),
                ("Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*",
                 "CDK stages the built site as a zip in its bootstrap asset bucket, under a name known at deploy."),
            )))
        Validations.of(singleton.node.default_child).acknowledge(
            Acknowledgment(id="AwsSolutions-L1", reason="CDK pins the runtime of its own BucketDeployment function; "
                           "it runs only while CloudFormation deploys the site."),
            Acknowledgment(id="Serverless-LambdaLatestVersion", reason="CDK pins the runtime of its own "
                           "BucketDeployment function; it runs only while CloudFormation deploys the site."),
            Acknowledgment(id="Serverless-LambdaDLQ", reason="CloudFormation invokes the copy synchronously and "
                           "fails the deployment on an error: there is no event to keep for a retry."),
            Acknowledgment(id="Serverless-LambdaTracing", reason="A copy of static files while CloudFormation deploys: "
                           "no request of a user ever passes through it, so there is nothing to trace."),
        )

    def _acknowledge_findings(self) -> None:
        Validations.of(self.distribution.node.default_child).acknowledge(
            Acknowledgment(
                id="AwsSolutions-CFR1",
                reason="The dashboard's users sign in wherever they work; no country is excluded by policy, and "
                "the data behind it is only served to signed-in users by the API.",
            ),
            Acknowledgment(
                id="AwsSolutions-CFR2",
                reason="The site holds only the built static app, no data; the API it calls has its own web ACL "
                "(infra/constructs/waf.py). A CloudFront web ACL must live in us-east-1, apart from this stack.",
            ),
            Acknowledgment(
                id="AwsSolutions-CFR3",
                reason="The site serves the same public static files to everyone; what users do is logged by the "
                "API's access logs, and the bucket's server access logs record every object CloudFront fetches.",
            ),
            Acknowledgment(
                id="AwsSolutions-CFR4",
                reason="The distribution uses CloudFront's default certificate (no custom domain is configured), "
                "for which CloudFront fixes the minimum protocol; a custom domain's certificate would allow TLSv1.2_2021.",
            ),
        )
