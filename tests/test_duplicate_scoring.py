"""The scoring of duplicate suggestions on small examples written for it: the same flaw named in
other words, two flaws of one component, and a release note against the advisory it repeats."""

from __future__ import annotations

from vulndesk.duplicates import ranking
from vulndesk.duplicates.fingerprints import marks, profile, words

ADVISORY = profile(
    "Cross-Site Request Forgery in the note editor",
    "The delete and rename actions of the note editor accept a cross-site request forgery: "
    "a page on another site can delete a user's notes. Affects versions before 1.6.2.",
)
RELEASE_NOTE = profile(
    "Notebook 1.6.2 improves CSRF protection", "Notebook 1.6.2 improves CSRF protection for delete actions."
)
OTHER_FLAW_SAME_FILE = profile(
    "Stored XSS in the note editor",
    "A note title is rendered without escaping in the note editor, a stored cross site scripting.",
)


def test_a_flaw_class_reads_the_same_in_its_short_and_long_names() -> None:
    assert "csrf" in words("a Cross-Site Request Forgery in the form")
    assert "csrf" in words("CSRF in the form")
    assert marks("an out-of-bounds read in decode.c")["flaw"] == {"oob"}
    assert marks("a heap OOB read")["flaw"] == marks("reads outside of bounds")["flaw"] == {"oob"}
    assert marks("XML External Entity (XXE) injection")["flaw"] == {"xxe"}


def test_a_version_with_or_without_its_trailing_zero_is_one_release() -> None:
    assert marks("fixed in 0.8")["version"] == marks("before 0.8.0")["version"] == {"0.8"}
    assert marks("before 2.3.1.0")["version"] == {"2.3.1"}


def test_the_words_of_a_release_note_do_not_count_against_it() -> None:
    assert "improves" not in words("Notebook 1.6.2 improves CSRF protection")
    assert "resolves" not in words("1.4.5 resolves an information disclosure")


def test_a_release_note_ranks_its_advisory_above_another_flaw_of_the_same_editor() -> None:
    ranked = ranking.rank(RELEASE_NOTE, [("advisory", ADVISORY), ("xss", OTHER_FLAW_SAME_FILE)])
    assert [s.candidate for s in ranked] == ["advisory"], "the XSS report shares no word with it"
    assert "same kind of flaw: CSRF" in ranked[0].reasons


def test_two_reports_naming_different_flaws_of_one_function_score_lower_than_the_same_flaw() -> None:
    null_binding = profile("Null binding in ParseShape", "A reference binding to null pointer in ParseShape.")
    check_fail = profile("CHECK-fail in ParseShape", "ParseShape hits a CHECK-fail on an empty shape.")
    same = profile(
        "Null dereference in ParseShape", "ParseShape has a null pointer dereference on empty input."
    )
    other = ranking.rank(null_binding, [("check", check_fail)])
    again = ranking.rank(null_binding, [("same", same)])
    assert other[0].score < again[0].score


def test_a_reason_names_the_kind_of_flaw_in_words() -> None:
    divide = profile("Crash in Split", "A division by zero in Split.")
    again = profile("Split divides by zero", "Split can divide by 0 on an empty tensor.")
    reasons = ranking.rank(again, [("divide", divide)])[0].reasons
    assert "same kind of flaw: division by zero" in reasons
    assert "divzero" not in " ".join(reasons)


def test_two_reports_naming_different_files_are_told_apart() -> None:
    tga = profile("Heap overflow in TgaRleDecode.c", "libImaging/TgaRleDecode.c overflows a heap buffer.")
    sgi = profile("Heap overflow in SgiRleDecode.c", "libImaging/SgiRleDecode.c overflows a heap buffer.")
    sgi_again = profile("SgiRleDecode.c buffer overflow", "A buffer overflow in libImaging/SgiRleDecode.c.")
    assert ranking.rank(sgi_again, [("tga", tga)])[0].score < ranking.rank(sgi_again, [("sgi", sgi)])[0].score
