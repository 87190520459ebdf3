"""Intervention messages: every level, channel and language, and the SMS segment arithmetic."""

from __future__ import annotations

import re

import pytest

from finscore.products.risk.messages import CHANNELS, LANGUAGES, TEMPLATES, compose_message, sms_segments

LEVELS = ("low", "medium", "high", "critical")
DEVANAGARI = re.compile(r"[\u0900-\u097F]")


@pytest.mark.parametrize(("text", "segments"), [
    ("a" * 160, 1),
    ("a" * 161, 2),
    ("a" * 306, 2),
    ("a" * 307, 3),
    ("", 0),
])
def test_gsm7_packs_160_in_one_segment_and_153_per_part(text, segments):
    result = sms_segments(text)

    assert result.encoding == "GSM-7"
    assert result.segments == segments


def test_gsm7_extension_characters_take_two_septets_and_are_never_split():
    assert sms_segments("€" * 80).units == 160
    assert sms_segments("€" * 80).segments == 1
    assert sms_segments("€" * 81).segments == 2
    # 152 plain septets then one two-septet character: it does not fit in the first part's last septet.
    assert sms_segments("a" * 152 + "€" + "a" * 10).segments == 2
    assert sms_segments("a" * 152 + "€" + "a" * 152).segments == 3


@pytest.mark.parametrize(("length", "segments"), [(70, 1), (71, 2), (134, 2), (135, 3)])
def test_devanagari_goes_as_ucs2_70_in_one_segment_and_67_per_part(length, segments):
    text = ("नमस्ते" * 40)[:length]

    result = sms_segments(text)

    assert result.encoding == "UCS-2"
    assert result.characters == length
    assert result.segments == segments


def test_one_non_gsm_character_switches_the_whole_text_to_ucs2():
    assert sms_segments("Hi José" + "a" * 70).encoding == "GSM-7"  # é is in GSM-7
    assert sms_segments("Hi Łukasz" + "a" * 70).encoding == "UCS-2"


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("channel", CHANNELS)
def test_hindi_messages_are_written_in_devanagari(level, channel):
    message = compose_message(level, channel, "hi", "Priya Sharma")

    letters = [char for char in message.text if char.isalpha()]
    devanagari = [char for char in letters if DEVANAGARI.match(char)]
    # Brand, EMI and the customer's name stay in Latin letters; the sentences are Hindi.
    assert len(devanagari) > 0.6 * len(letters)
    assert "Sharma" not in message.text
    if channel != "app":  # push bodies carry no greeting
        assert "Priya" in message.text
    if channel != "sms":
        assert message.subject and DEVANAGARI.search(message.subject)


@pytest.mark.parametrize("level", LEVELS)
def test_english_sms_fit_one_gsm7_segment(level):
    message = compose_message(level, "sms", "en", "Priya Sharma")

    assert message.sms.encoding == "GSM-7"
    assert message.sms.segments == 1
    assert message.text.startswith("Hi Priya,")


def test_hindi_sms_reports_ucs2_segments():
    message = compose_message("critical", "sms", "hi", "Priya")

    assert message.sms.encoding == "UCS-2"
    assert message.sms.segments == -(-len(message.text) // 67)
    assert message.text.startswith("नमस्ते Priya जी,")


def test_each_level_says_something_different_and_the_score_is_never_named():
    for language in LANGUAGES:
        texts = [compose_message(level, "sms", language).text for level in LEVELS]
        assert len(set(texts)) == len(LEVELS)
        assert not any(re.search(r"\bscore\b", text, re.IGNORECASE) or "स्कोर" in text for text in texts)
    assert set(TEMPLATES) == set(LANGUAGES)


def test_without_a_name_the_greeting_is_the_banks_usual_one():
    assert compose_message("high", "sms", "en").text.startswith("Dear customer,")
    assert compose_message("high", "email", "hi").text.startswith("प्रिय ग्राहक,")
    assert compose_message("high", "email", "en", "Rahul Verma").text.startswith("Dear Rahul,")
