"""What the stack gives delivery to send with: the SES identity of the sender, the DLT ids of SMS to India."""

from __future__ import annotations

from finscore.products.risk.spec import INTERVENTION_DELIVERY
from infra.synth import STACK_NAME, build_app


def test_the_stack_creates_the_sender_email_identity_to_verify(synthesized, context):
    (identity,) = synthesized.resources("AWS::SES::EmailIdentity").values()
    assert identity["Properties"]["EmailIdentity"] == context["senderEmail"]
    assert context["createSenderIdentity"] is True


def test_dlt_ids_reach_delivery_and_an_identity_verified_elsewhere_is_left_alone(tmp_path):
    # Given a deployment registered with TRAI whose sender is verified outside the stack
    overrides = {"smsEntityId": "1101456789012345678", "smsTemplateId": "1107456789012345678",
                 "createSenderIdentity": False}
    # When it is synthesized (cdk-nag included)
    template = build_app(tmp_path, overrides).synth().get_stack_by_name(STACK_NAME).template
    # Then delivery gets the ids, and no identity is created
    variables = template["Resources"][INTERVENTION_DELIVERY.logical_id]["Properties"]["Environment"]["Variables"]
    assert variables["SMS_ENTITY_ID"] == "1101456789012345678"
    assert variables["SMS_TEMPLATE_ID"] == "1107456789012345678"
    assert not [r for r in template["Resources"].values() if r["Type"] == "AWS::SES::EmailIdentity"]
