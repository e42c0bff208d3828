"""Messages from other layers are shown in Swedish where a rendering is known."""

from __future__ import annotations

from api.web.messages import swedish


class TestSwedishRenderings:
    def test_a_wrong_check_digit_in_swedish(self) -> None:
        message = swedish("personnummer: check digit should be 4, not 5", "sv")
        assert (message.text, message.lang) == ("personnummer: kontrollsiffran ska vara 4, "
                                                "inte 5", "sv")

    def test_a_refusal_by_policy_in_swedish(self) -> None:
        message = swedish("the teacher is not assigned to this student at the time of the "
                          "request", "sv")
        assert message.lang == "sv" and "inte knuten till eleven" in message.text

    def test_an_unknown_message_stays_as_written_and_marked_english(self) -> None:
        message = swedish("something nobody translated", "sv")
        assert (message.text, message.lang) == ("something nobody translated", "en")

    def test_english_pages_keep_the_original(self) -> None:
        message = swedish("check digit should be 4, not 5", "en")
        assert (message.text, message.lang) == ("check digit should be 4, not 5", "en")
