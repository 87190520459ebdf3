"""What the stack gives delivery to send with: the DLT ids of SMS to India."""

from __future__ import annotations

from finscore.products.risk.spec import INTERVENTION_DELIVERY
from infra.synth import STACK_NAME, build_app


def test_dlt_ids_reach_delivery(tmp_path):
    # Given a deployment registered with TRAI
    overrides = {"smsEntityId": "1101456789012345678", "smsTemplateId": "1107456789012345678"}
    # When it is synthesized (cdk-nag included)
    template = build_app(tmp_path, overrides).synth().get_stack_by_name(STACK_NAME).template
    # Then delivery gets the ids
    variables = template["Resources"][INTERVENTION_DELIVERY.logical_id]["Properties"]["Environment"]["Variables"]
    assert variables["SMS_ENTITY_ID"] == "1101456789012345678"
    assert variables["SMS_TEMPLATE_ID"] == "1107456789012345678"
