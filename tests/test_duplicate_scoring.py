"""The scoring of duplicate suggestions on small examples written for it: the same flaw named in
other words, two flaws of one component, a release note against the advisory it repeats, and two
reports naming one fixed release."""

from __future__ import annotations

from dataclasses import replace

from bench.duplicates_fit import fit
from vulndesk.duplicates import ranking
from vulndesk.duplicates.fingerprints import fixed_releases, marks, profile, words

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


def test_the_fixed_release_is_read_from_an_advisory_and_from_a_release_note() -> None:
    advisory = "Django before 1.11.27, 2.x before 2.2.9, and 3.x before 3.0.1 allows account takeover."
    assert fixed_releases(advisory) == {"1.11.27", "2.2.9", "3.0.1"}
    assert fixed_releases("Django 2.2.9 fixes a vulnerability in 2.2.8") == {"2.2.9"}
    assert fixed_releases("versions 2.5.3, 2.6.3 and 2.8.0 include a fix") == {"2.5.3", "2.6.3", "2.8"}
    assert fixed_releases("Waitress through version 1.3.1 parses the header") == set(), "affected, not fixed"


def test_a_report_naming_the_same_fixed_release_is_the_likelier_original() -> None:
    note = profile(
        "Notebook 1.6.2 fixes a note editor flaw", "Notebook 1.6.2 fixes a flaw in the note editor."
    )
    same_release = profile("Flaw in the note editor", "The note editor mishandles titles, fixed in 1.6.2.")
    other_release = profile("Flaw in the note editor", "The note editor mishandles titles, fixed in 1.7.0.")
    ranked = ranking.rank(note, [("same", same_release), ("other", other_release)])
    assert [s.candidate for s in ranked] == ["same", "other"]
    assert ranked[0].score > ranked[1].score
    assert "same fixed release: 1.6.2" in ranked[0].reasons


def test_a_score_is_a_probability_that_falls_as_a_rival_matches_as_well() -> None:
    alone = ranking.Evidence(lexical=0.6, marks=0.5, other_flaw=0.0, rival=0.0, same_fix=0.0)
    contested = ranking.Evidence(lexical=0.6, marks=0.5, other_flaw=0.0, rival=0.6, same_fix=0.0)
    assert 0.0 < ranking.probability(contested) < ranking.probability(alone) < 1.0


def test_the_fit_learns_which_evidence_tells_the_original() -> None:
    # Small labelled candidates: the original shares the words; the others share a rival's words.
    originals = [ranking.Evidence(0.7 + i / 100, 0.4, 0.0, 0.2, 0.0) for i in range(10)]
    others = [ranking.Evidence(0.2 + i / 100, 0.4, 0.0, 0.7, 0.0) for i in range(20)]
    weights = fit([(e, True) for e in originals] + [(e, False) for e in others])
    _, lexical, marks, _, rival, *_ = weights
    assert lexical > 0 > rival
    assert abs(marks) < lexical, "the marks are alike on both sides"
    assert ranking.probability(originals[0], weights) > 0.5 > ranking.probability(others[0], weights)


def test_a_report_naming_no_mark_is_not_judged_as_if_its_marks_differed() -> None:
    note = profile("Moin 1.9.10 fixes a flaw in the editor", "Moin 1.9.10 includes a security fix.")
    named = profile("Flaw in edit_page", "The editor's edit_page handler mishandles titles.")
    earlier = profile("Editor flaw", "The page editor mishandles titles in 1.9.9.")
    corpus = ranking.Corpus([note, named, earlier])
    [(_, unmarked)] = ranking.weigh(corpus, note, [("earlier", earlier)])
    [(_, compared)] = ranking.weigh(corpus, named, [("earlier", earlier)])
    assert (unmarked.unmarked, compared.unmarked) == (1.0, 0.0), "a version is no mark"
    # The same words and no shared mark: the note, which had no mark to share, is likelier.
    alike = {"lexical": 0.5, "marks": 0.0, "other_flaw": 0.0, "rival": 0.1, "same_fix": 0.0}
    assert ranking.probability(ranking.Evidence(**alike, unmarked=1.0)) > ranking.probability(
        ranking.Evidence(**alike)
    )


def test_an_embeddings_cosine_is_a_last_measurement_only_where_one_is_given() -> None:
    words = ranking.Evidence(lexical=0.6, marks=0.5, other_flaw=0.0, rival=0.3, same_fix=0.0)
    assert words.measured() == (0.6, 0.5, 0.0, 0.3, 0.0, 0.0)
    assert replace(words, semantic=0.8).measured() == (0.6, 0.5, 0.0, 0.3, 0.0, 0.0, 0.8)
    # The words alike on both sides: only the meaning tells the original from the others.
    originals = [replace(words, semantic=0.8 + i / 100) for i in range(10)]
    others = [replace(words, semantic=0.3 + i / 100) for i in range(20)]
    weights = fit([(e, True) for e in originals] + [(e, False) for e in others])
    assert len(weights) == len(ranking.WEIGHTS) + 1
    assert weights[-1] > 0
    assert ranking.probability(originals[0], weights) > ranking.probability(others[-1], weights)
