"""Deployment tunables read from CDK context (cdk.json, or `cdk synth -c key=value`).

Every tunable has a secure default in cdk.json; a bad value fails the synth naming the key rather
than surfacing as an odd CloudFormation error at deploy time.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from finscore.products import all_functions

REPO_ROOT = Path(__file__).resolve().parents[1]
CDK_JSON = REPO_ROOT / "cdk.json"
# The one place the Lambda Python version is set: the CDK app and layers/serving/build.py both read
# this key, so the serving layer is always built for the Python the functions run on.
PYTHON_VERSION_KEY = "lambdaPythonVersion"

_RETENTION_BY_DAYS = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS,
    150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS,
    545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS,
    1096: logs.RetentionDays.THREE_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    2192: logs.RetentionDays.SIX_YEARS,
    2557: logs.RetentionDays.SEVEN_YEARS,
    2922: logs.RetentionDays.EIGHT_YEARS,
    3288: logs.RetentionDays.NINE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}


def cdk_json_context() -> dict[str, Any]:
    """The context block of cdk.json: CDK feature flags and the FinScore tunables."""
    return json.loads(CDK_JSON.read_text())["context"]


@dataclass(frozen=True)
class FinScoreConfig:
    context: dict[str, Any]
    python_version: str
    runtime: lambda_.Runtime
    memory_overrides_mb: dict[str, int]
    registry_ttl_seconds: int
    api_stage_name: str
    api_throttle_rate_limit: int
    api_throttle_burst_limit: int
    api_quota_per_day: int
    api_stage_throttle_rate_limit: int
    api_stage_throttle_burst_limit: int
    # Requests one client IP may send in any 5 minutes before the web ACL answers 429.
    waf_rate_limit_per_5min: int
    # The Cognito domain prefix of the token endpoint (cdk.json authDomainPrefix); None: finscore-<account id>.
    auth_domain_prefix: str | None
    # Browser origins the API answers CORS preflights for (cdk.json corsAllowedOrigins, comma-separated).
    cors_allowed_origins: tuple[str, ...]
    log_retention_days: int
    log_retention: logs.RetentionDays
    xray_sdk_tracing: bool
    enable_interventions: bool
    # Whether a retrain without training files may generate synthetic data (false in deployments).
    allow_synthetic_training: bool
    auto_trigger_threshold: int | None  # None: the critical level triggers
    auto_trigger_cooldown_hours: int
    risk_level_cutoffs: str
    sender_email: str
    # Whether the stack creates the SES identity of sender_email (false: it is verified elsewhere).
    create_sender_identity: bool
    # TRAI DLT entity and template ids sent with SMS to +91 numbers; "" leaves them unset.
    sms_entity_id: str
    sms_template_id: str
    stream_batch_size: int
    stream_retry_attempts: int
    queue_batch_size: int
    queue_max_receive_count: int
    # At most this many concurrent invocations per queue consumer: a burst of dropped files must not
    # take the account's concurrency from the scoring API.
    queue_max_concurrency: int
    # Chunks a fanned-out file's Distributed Map scores at once, and the file size that fans out.
    batch_max_concurrency: int
    batch_fanout_bytes: int
    # Where the alert topic also sends email (cdk.json alertEmail); None: the topic only.
    alert_email: str | None

    def context_value(self, key: str) -> str:
        """A context value as a function's environment gets it: validated and normalised where this
        config checks the key (booleans as true/false, cut-offs as 30,60,80)."""
        normalised = {
            "enableInterventions": "true" if self.enable_interventions else "false",
            "allowSyntheticTraining": "true" if self.allow_synthetic_training else "false",
            "autoTriggerThreshold": "" if self.auto_trigger_threshold is None else str(self.auto_trigger_threshold),
            "autoTriggerCooldownHours": str(self.auto_trigger_cooldown_hours),
            "riskLevelCutoffs": self.risk_level_cutoffs,
            "senderEmail": self.sender_email,
            "smsEntityId": self.sms_entity_id,
            "smsTemplateId": self.sms_template_id,
        }
        return normalised[key] if key in normalised else str(self.raw_context(key))

    def raw_context(self, key: str) -> object:
        value = self.context.get(key)
        if value is None:
            raise ValueError(f"CDK context {key!r} is not set (cdk.json holds the defaults)")
        return str(value).lower() if isinstance(value, bool) else value

    @classmethod
    def from_context(cls, scope: Construct) -> FinScoreConfig:
        reader = _ContextReader(scope)
        python_version = reader.text(PYTHON_VERSION_KEY)
        retention_days = reader.positive_int("logRetentionDays")
        if retention_days not in _RETENTION_BY_DAYS:
            raise ValueError(
                f"CDK context 'logRetentionDays' must be one of {sorted(_RETENTION_BY_DAYS)}, got {retention_days}"
            )
        return cls(
            context={key: scope.node.try_get_context(key) for key in cdk_json_context()},
            python_version=python_version,
            runtime=_python_runtime(python_version),
            memory_overrides_mb=reader.memory_overrides("lambdaMemoryMb"),
            # The same bounds the functions' settings model enforces on REGISTRY_TTL at cold start.
            registry_ttl_seconds=reader.int_between("registryTtlSeconds", 0, 3600),
            api_stage_name=reader.text("apiStageName"),
            api_throttle_rate_limit=reader.positive_int("apiThrottleRateLimit"),
            api_throttle_burst_limit=reader.positive_int("apiThrottleBurstLimit"),
            api_quota_per_day=reader.positive_int("apiQuotaPerDay"),
            api_stage_throttle_rate_limit=reader.positive_int("apiStageThrottleRateLimit"),
            api_stage_throttle_burst_limit=reader.positive_int("apiStageThrottleBurstLimit"),
            # The bounds WAFv2 accepts for a rate-based rule's limit.
            waf_rate_limit_per_5min=reader.int_between("wafRateLimitPer5Min", 10, 2_000_000_000),
            auth_domain_prefix=None if reader.is_empty("authDomainPrefix") else reader.domain_prefix("authDomainPrefix"),
            cors_allowed_origins=tuple(origin.strip() for origin in reader.text("corsAllowedOrigins").split(",")
                                       if origin.strip()),
            log_retention_days=retention_days,
            log_retention=_RETENTION_BY_DAYS[retention_days],
            xray_sdk_tracing=reader.flag("xraySdkTracing"),
            enable_interventions=reader.flag("enableInterventions"),
            allow_synthetic_training=reader.flag("allowSyntheticTraining"),
            auto_trigger_threshold=None if reader.is_empty("autoTriggerThreshold")
            else reader.int_between("autoTriggerThreshold", 0, 100),
            auto_trigger_cooldown_hours=reader.int_between("autoTriggerCooldownHours", 1, 24 * 365),
            risk_level_cutoffs=reader.cutoffs("riskLevelCutoffs"),
            sender_email=reader.email("senderEmail"),
            create_sender_identity=reader.flag("createSenderIdentity"),
            sms_entity_id=reader.digits("smsEntityId", "TRAI DLT entity id"),
            sms_template_id=reader.digits("smsTemplateId", "TRAI DLT template id"),
            stream_batch_size=reader.int_between("streamBatchSize", 1, 10000),
            stream_retry_attempts=reader.int_between("streamRetryAttempts", 0, 10000),
            # SQS event source mappings take up to 10 messages per batch without a batching window.
            queue_batch_size=reader.int_between("queueBatchSize", 1, 10),
            queue_max_receive_count=reader.int_between("queueMaxReceiveCount", 1, 1000),
            # SQS event sources' maximum concurrency is 2 to 1000.
            queue_max_concurrency=reader.int_between("queueMaxConcurrency", 2, 1000),
            # A Distributed Map runs at most 10,000 child workflows at once.
            batch_max_concurrency=reader.int_between("batchMaxConcurrency", 1, 10_000),
            batch_fanout_bytes=reader.int_between("batchFanoutBytes", 1024 * 1024, 2**40),
            alert_email=None if reader.is_empty("alertEmail")
            else reader.email("alertEmail", "an email address that receives the alarms"),
        )

    def memory_mb(self, function_name: str, default: int) -> int:
        return self.memory_overrides_mb.get(function_name, default)


def _python_runtime(version: str) -> lambda_.Runtime:
    runtime = getattr(lambda_.Runtime, "PYTHON_" + version.replace(".", "_"), None)
    if runtime is None:
        raise ValueError(f"CDK context {PYTHON_VERSION_KEY!r}: python{version} is not a Lambda runtime")
    snap_start = [spec.name for spec in all_functions() if spec.snap_start]
    if snap_start and not runtime.supports_snap_start:
        raise ValueError(
            f"CDK context {PYTHON_VERSION_KEY!r}: python{version} has no Lambda SnapStart, which "
            f"{', '.join(snap_start)} run with; use 3.12 or later"
        )
    return runtime


class _ContextReader:
    def __init__(self, scope: Construct):
        self._scope = scope

    def _value(self, key: str) -> Any:
        found = self._scope.node.try_get_context(key)
        if found is None:
            raise ValueError(f"CDK context {key!r} is not set (cdk.json holds the defaults)")
        return found

    def text(self, key: str) -> str:
        return str(self._value(key))

    def flag(self, key: str) -> bool:
        raw = self._value(key)
        if isinstance(raw, bool):
            return raw
        if str(raw).lower() in ("true", "false"):
            return str(raw).lower() == "true"
        raise ValueError(f"CDK context {key!r} must be true or false, got {raw!r}")

    def is_empty(self, key: str) -> bool:
        return not str(self._value(key)).strip()

    def positive_int(self, key: str) -> int:
        return self.int_between(key, 1, None)

    def int_between(self, key: str, minimum: int, maximum: int | None) -> int:
        raw = self._value(key)
        try:
            number = int(raw)
        except (TypeError, ValueError):
            number = None
        if number is None or number < minimum or (maximum is not None and number > maximum):
            bounds = f"{minimum}..{maximum}" if maximum is not None else f">= {minimum}"
            raise ValueError(f"CDK context {key!r} must be an integer {bounds}, got {raw!r}")
        return number

    def cutoffs(self, key: str) -> str:
        """Empty (the champion's own cut-offs) or three ascending numbers in 0..100 such as 30,60,80."""
        raw = str(self._value(key)).strip()
        if not raw:
            return ""
        try:
            parts = [float(part) for part in raw.split(",")]
        except ValueError:
            parts = []
        if len(parts) != 3 or not all(0 < part < 100 for part in parts) or not parts[0] < parts[1] < parts[2]:
            raise ValueError(
                f"CDK context {key!r} must be empty or three ascending numbers between 0 and 100 such as "
                f"\"30,60,80\", got {raw!r}"
            )
        return ",".join(f"{part:g}" for part in parts)

    def digits(self, key: str, what: str) -> str:
        """Empty (unset) or a registration id made of digits, as DLT portals issue them. Quoted: ids
        run to 19 digits, which a JSON number loses on its way through the CDK's JavaScript."""
        found = self._value(key)
        raw = found.strip() if isinstance(found, str) else None
        if raw is None or (raw and not (raw.isascii() and raw.isdigit())):
            raise ValueError(f"CDK context {key!r} must be empty or a {what} as a string of digits, got {found!r}")
        return raw

    def domain_prefix(self, key: str) -> str:
        """A Cognito domain prefix: lower-case letters, digits and hyphens, not naming AWS (Cognito refuses
        "aws", "amazon" and "cognito" in prefixes)."""
        raw = self.text(key).strip()
        if not re.fullmatch(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", raw) or any(
                word in raw for word in ("aws", "amazon", "cognito")):
            raise ValueError(f"CDK context {key!r} must be a Cognito domain prefix (a-z, 0-9, -; without aws, "
                             f"amazon or cognito), got {raw!r}")
        return raw

    def email(self, key: str, expected: str = "an email address (a verified SES identity)") -> str:
        raw = self.text(key)
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", raw):
            raise ValueError(f"CDK context {key!r} must be {expected}, got {raw!r}")
        return raw

    def memory_overrides(self, key: str) -> dict[str, int]:
        """Per-function memory in MB, overriding the FunctionSpec default; `{}` keeps the defaults."""
        raw = self._value(key)
        if isinstance(raw, str):  # `-c lambdaMemoryMb='{"recommend_api": 1024}'` arrives as text
            try:
                raw = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise ValueError(f"CDK context {key!r} must be a JSON object, got {raw!r}") from exc
        known = {spec.name for spec in all_functions()}
        if (
            not isinstance(raw, dict)
            or not set(raw) <= known
            or not all(isinstance(mb, int) and 128 <= mb <= 10240 for mb in raw.values())
        ):
            raise ValueError(
                f"CDK context {key!r} must map function names {sorted(known)} to 128..10240 MB, got {raw!r}"
            )
        return dict(raw)
