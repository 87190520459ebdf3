"""Intervention messages by risk level, channel and language (English, Hindi in Devanagari).

The tone rises with the risk level, from a payment-reminder tip to an offer of a repayment plan, and
never names the score: a customer is told how the bank can help, not how the model sees them. SMS
texts come with their segment count, which is what an SMS costs: GSM-7 packs 160 characters in one
segment and 153 per segment of a longer text; anything outside GSM-7 (Devanagari among it) goes as
UCS-2, 70 characters in one segment and 67 per segment beyond.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Channel = Literal["sms", "email", "app"]
Language = Literal["en", "hi"]
CHANNELS: tuple[str, ...] = ("sms", "email", "app")
LANGUAGES: tuple[str, ...] = ("en", "hi")
HELPLINE = "1800-123-4567"

# GSM 03.38 default alphabet (one septet each) and its extension table (escape + character: two).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")
GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


@dataclass(frozen=True)
class SmsSegments:
    encoding: Literal["GSM-7", "UCS-2"]
    characters: int
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int


@dataclass(frozen=True)
class Message:
    risk_level: str
    channel: str
    language: str
    subject: str | None  # email subject or push title
    text: str
    sms: SmsSegments | None


def _pack(units: list[int], single: int, part: int) -> int:
    """Segments needed for characters of the given unit widths; a character is never split."""
    total = sum(units)
    if total == 0:
        return 0
    if total <= single:
        return 1
    segments, used = 1, 0
    for width in units:
        if used + width > part:
            segments, used = segments + 1, 0
        used += width
    return segments


def sms_segments(text: str) -> SmsSegments:
    """How TEXT travels as SMS: its encoding and the number of segments it takes."""
    if all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text):
        widths = [2 if char in GSM7_EXTENSION else 1 for char in text]
        return SmsSegments("GSM-7", len(text), sum(widths), _pack(widths, GSM7_SINGLE, GSM7_PART))
    # Characters beyond the Basic Multilingual Plane take a surrogate pair: two UCS-2 units.
    widths = [2 if ord(char) > 0xFFFF else 1 for char in text]
    return SmsSegments("UCS-2", len(text), sum(widths), _pack(widths, UCS2_SINGLE, UCS2_PART))


@dataclass(frozen=True)
class _Texts:
    sms: str
    push_title: str
    push_body: str
    email_subject: str
    email_body: str


_SIGN_OFF = {"en": "Warm regards,\nThe FinScore team", "hi": "सादर,\nFinScore टीम"}

TEMPLATES: dict[str, dict[str, _Texts]] = {
    "en": {
        "low": _Texts(
            sms="{greeting} thank you for banking with FinScore. Set up payment reminders in the FinScore app "
            "to stay on top of your EMIs and bills.",
            push_title="Stay on top of your payments",
            push_body="Set reminders for your EMIs and bills so that no payment slips through.",
            email_subject="A few tips to stay on top of your payments",
            email_body="{greeting}\n\nThank you for banking with FinScore. Setting up reminders for your EMIs and "
            "bills in the FinScore app is the easiest way to make sure no payment slips through.\n\n"
            "If you ever have a question about your account, call us on {helpline}.",
        ),
        "medium": _Texts(
            sms="{greeting} your next EMI is due soon. Please keep enough balance in your account to avoid late "
            "charges. Questions? Call {helpline}.",
            push_title="Your EMI is due soon",
            push_body="Keep enough balance in your account to avoid late charges.",
            email_subject="Your next EMI is due soon",
            email_body="{greeting}\n\nThis is a friendly reminder that your next EMI is due soon. Please keep enough "
            "balance in your account on the due date to avoid late charges.\n\nIf anything has changed, call us "
            "on {helpline} and we will be glad to help.",
        ),
        "high": _Texts(
            sms="{greeting} if paying your EMI is difficult this month, we can help, for example by moving your "
            "due date. Call {helpline} or reply HELP.",
            push_title="Need help with your EMI?",
            push_body="If paying is hard this month, we can help, for example by moving your due date. "
            "Tap to talk to us.",
            email_subject="We are here to help with your EMI",
            email_body="{greeting}\n\nWe understand that some months are harder than others. If paying your EMI is "
            "difficult right now, we can help, for example by moving your due date or splitting a payment.\n\n"
            "Call us on {helpline} or reply to this email, and we will find an option that works for you.",
        ),
        "critical": _Texts(
            sms="{greeting} your upcoming EMI may be missed. Talk to us today about a flexible repayment plan at "
            "no extra cost: call {helpline}.",
            push_title="Your EMI may be missed",
            push_body="Talk to us today about a flexible repayment plan at no extra cost.",
            email_subject="Let us help you avoid a missed EMI",
            email_body="{greeting}\n\nYour upcoming EMI may be missed. A missed payment can add late charges and "
            "affect your credit score, and we would like to help you avoid that.\n\nPlease talk to us today "
            "about a flexible repayment plan at no extra cost: call {helpline} or reply to this email.",
        ),
    },
    "hi": {
        "low": _Texts(
            sms="{greeting} FinScore के साथ बैंकिंग करने के लिए धन्यवाद। EMI और बिलों के लिए FinScore ऐप में "
            "रिमाइंडर सेट करें, ताकि कोई भुगतान न छूटे।",
            push_title="अपने भुगतानों पर नज़र रखें",
            push_body="EMI और बिलों के लिए रिमाइंडर सेट करें, ताकि कोई भुगतान न छूटे।",
            email_subject="समय पर भुगतान के कुछ आसान तरीके",
            email_body="{greeting}\n\nFinScore के साथ बैंकिंग करने के लिए धन्यवाद। FinScore ऐप में अपनी EMI और "
            "बिलों के लिए रिमाइंडर सेट करना सबसे आसान तरीका है, ताकि कोई भुगतान न छूटे।\n\nअपने खाते के बारे में "
            "कोई भी सवाल हो, तो हमें {helpline} पर कॉल करें।",
        ),
        "medium": _Texts(
            sms="{greeting} आपकी अगली EMI जल्द ही देय है। लेट फ़ीस से बचने के लिए कृपया खाते में पर्याप्त बैलेंस "
            "रखें। कोई सवाल हो तो {helpline} पर कॉल करें।",
            push_title="आपकी EMI जल्द देय है",
            push_body="लेट फ़ीस से बचने के लिए खाते में पर्याप्त बैलेंस रखें।",
            email_subject="आपकी अगली EMI जल्द देय है",
            email_body="{greeting}\n\nयह याद दिलाने के लिए है कि आपकी अगली EMI जल्द ही देय है। लेट फ़ीस से बचने के "
            "लिए कृपया देय तिथि पर अपने खाते में पर्याप्त बैलेंस रखें।\n\nअगर आपकी स्थिति में कुछ बदला है, तो "
            "{helpline} पर कॉल करें, हमें आपकी मदद करके खुशी होगी।",
        ),
        "high": _Texts(
            sms="{greeting} अगर इस महीने EMI भरने में दिक्कत हो रही है, तो हम मदद कर सकते हैं, जैसे EMI की तारीख "
            "आगे बढ़ाना। {helpline} पर कॉल करें या HELP लिखकर जवाब दें।",
            push_title="EMI में मदद चाहिए?",
            push_body="इस महीने भुगतान मुश्किल हो, तो हम EMI की तारीख आगे बढ़ाने जैसे विकल्पों से मदद कर सकते हैं। "
            "बात करने के लिए टैप करें।",
            email_subject="आपकी EMI में मदद के लिए हम यहाँ हैं",
            email_body="{greeting}\n\nहम समझते हैं कि हर महीना एक जैसा नहीं होता। अगर अभी EMI भरना मुश्किल हो रहा "
            "है, तो हम मदद कर सकते हैं, जैसे EMI की तारीख आगे बढ़ाना या भुगतान को हिस्सों में बाँटना।\n\n"
            "{helpline} पर कॉल करें या इस ईमेल का जवाब दें, हम आपके लिए सही विकल्प ढूँढेंगे।",
        ),
        "critical": _Texts(
            sms="{greeting} आपकी आने वाली EMI छूट सकती है। बिना किसी अतिरिक्त शुल्क के आसान भुगतान योजना के लिए "
            "आज ही {helpline} पर हमसे बात करें।",
            push_title="आपकी EMI छूट सकती है",
            push_body="बिना किसी अतिरिक्त शुल्क के आसान भुगतान योजना के लिए आज ही हमसे बात करें।",
            email_subject="EMI छूटने से बचने में हम आपकी मदद करेंगे",
            email_body="{greeting}\n\nआपकी आने वाली EMI छूट सकती है। भुगतान छूटने पर लेट फ़ीस लग सकती है और आपके "
            "क्रेडिट स्कोर पर असर पड़ सकता है, और हम चाहते हैं कि ऐसा न हो।\n\nबिना किसी अतिरिक्त शुल्क के आसान "
            "भुगतान योजना के लिए आज ही हमसे बात करें: {helpline} पर कॉल करें या इस ईमेल का जवाब दें।",
        ),
    },
}


def greeting(language: str, channel: str, customer_name: str | None) -> str:
    """"Hi Priya," / "नमस्ते Priya जी,"; without a name, the bank's usual "Dear customer"."""
    first = (customer_name or "").strip().split(" ")[0] if customer_name and customer_name.strip() else ""
    if language == "hi":
        if not first:
            return "प्रिय ग्राहक,"
        return f"प्रिय {first} जी," if channel == "email" else f"नमस्ते {first} जी,"
    if not first:
        return "Dear customer,"
    return f"Dear {first}," if channel == "email" else f"Hi {first},"


def compose_message(risk_level: str, channel: str, language: str, customer_name: str | None = None) -> Message:
    """The message a customer at RISK_LEVEL gets on CHANNEL in LANGUAGE."""
    texts = TEMPLATES[language][risk_level]
    values = {"greeting": greeting(language, channel, customer_name), "helpline": HELPLINE}
    if channel == "sms":
        text = texts.sms.format(**values)
        return Message(risk_level, channel, language, None, text, sms_segments(text))
    if channel == "app":
        return Message(risk_level, channel, language, texts.push_title, texts.push_body.format(**values), None)
    body = texts.email_body.format(**values) + "\n\n" + _SIGN_OFF[language]
    return Message(risk_level, channel, language, texts.email_subject, body, None)
