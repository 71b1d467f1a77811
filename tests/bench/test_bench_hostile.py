"""`python -m bench hostile`: its bodies, and how it judges answers (no server needed)."""

import json

from bench import hostile


def test_the_bodies_are_just_under_the_limit_and_all_4_byte_characters():
    limit = 100_000
    for name, documents in (("many", 1000), ("one", 1)):
        body = hostile.BODIES[name](limit)
        assert limit - 4 * documents - 1 <= len(body) < limit, name
        parsed = json.loads(body)
        assert len(parsed["documents"]) == documents
        assert set("".join(parsed["documents"])) == {hostile.WIDE_CHAR}
        assert hostile.WIDE_CHAR.encode() in body  # raw UTF-8, not \\u-escaped


def test_an_answer_is_judged_by_status_json_and_retry_after():
    ok = hostile.check_answer
    assert ok(200, {}, b"{}") == ""
    assert ok(413, {}, b'{"error": "too large"}') == ""
    assert ok(503, {"Retry-After": "1"}, b'{"error": "overloaded"}') == ""
    assert "without Retry-After" in ok(503, {}, b'{"error": "overloaded"}')
    assert "without a JSON error" in ok(502, {}, b"<html>bad gateway</html>")


def test_the_verdict_names_each_target_missed():
    answers = [hostile.Answer("many", 200, 3.0), hostile.Answer("one", 503, 61.0),
               hostile.Answer("one", None, 150.0, "TimeoutError: timed out")]
    result = hostile.HostileResult(idle_rss=100 * hostile.MB, peak_rss=1200 * hostile.MB,
                                   answers=answers, ordinary_after=1.5)
    missed = hostile.verdict(result)
    assert [m.split()[0] for m in missed] == ["RSS", "2", "the"]
    assert result.slowest == 150.0 and result.statuses()["no answer"] == 1
    fine = hostile.HostileResult(idle_rss=0, peak_rss=900 * hostile.MB,
                                 answers=answers[:1], ordinary_after=0.1)
    assert hostile.verdict(fine) == []
