"""The swap lexicon: case, word boundaries, the her/his ambiguity, keep phrases, loading."""

from __future__ import annotations

import json

import pytest

from agentic_match.errors import ConfigError
from agentic_match.fairness.lexicon import Lexicon, match_case


@pytest.fixture(scope="module")
def lex() -> Lexicon:
    return Lexicon.load()


def swap(lex, text, dims=("gender",)):
    return lex.swap(text, dims).text


def test_both_ways_in_one_pass(lex):
    assert swap(lex, "he said she would") == "she said he would"
    assert swap(lex, "men and women") == "women and men"


def test_case_is_preserved(lex):
    assert swap(lex, "He led. HE led. he led.") == "She led. SHE led. she led."
    assert swap(lex, "Chairman of the Board") == "Chairwoman of the Board"
    assert match_case("Mother", "father") == "Father" and match_case("WAITER", "waitress") == "WAITRESS"


def test_word_boundaries(lex):
    text = "the manager showed hedge funds to the Chemistry department; themselves; shell"
    assert swap(lex, text) == text
    assert (
        swap(lex, "a man's job, the men's team, self-made man.") == "a woman's job, the women's team, self-made woman."
    )


def test_her_possessive_or_object(lex):
    assert swap(lex, "She led her team") == "He led his team"
    assert swap(lex, "I thanked her.") == "I thanked him."
    assert swap(lex, "gave her a raise") == "gave him a raise"
    assert swap(lex, "worked with her and her staff") == "worked with him and his staff"
    assert swap(lex, "his own firm") == "her own firm"
    assert swap(lex, "the choice was his.") == "the choice was hers."
    assert swap(lex, "the book is hers") == "the book is his"
    assert swap(lex, "He hurt himself") == "She hurt herself"


def test_case_sensitive_terms_and_keep_phrases(lex):
    # "MS" (Microsoft, Master of Science) and "Miss"-less text stay; honorifics swap.
    assert swap(lex, "Mr. Smith used MS Office and has an MS degree") == "Ms. Smith used MS Office and has an MS degree"
    assert swap(lex, "Mrs Jones") == "Mr Jones"
    assert swap(lex, "Shift lead at Burger King, King of sales") == "Shift lead at Burger King, Queen of sales"
    # names only as written (Title / UPPER)
    assert swap(lex, "James Smith, JAMES; jamesy") == "Mary Smith, MARY; jamesy"


def test_other_dimensions_are_opt_in(lex):
    text = "An American citizen, member of American Express team, a millennial."
    assert swap(lex, text) == text  # gender only by default
    assert swap(lex, text, ("nationality",)) == "An Indian citizen, member of American Express team, a millennial."
    assert swap(lex, text, ("age",)) == "An American citizen, member of American Express team, a baby boomer."


def test_swap_result_counts_and_infer_side(lex):
    res = lex.swap("She led her team; he helped.")
    assert res.changed and res.side_counts == {"male": 1, "female": 2}
    assert [s.source for s in res.swaps] == ["She", "her", "he"]
    assert lex.infer_side("She led her team; he helped.") == "female"
    assert lex.infer_side("no markers here") is None
    assert not lex.swap("no markers here").changed


def test_custom_lexicon_file(tmp_path):
    path = tmp_path / "lex.json"
    path.write_text(
        json.dumps(
            {"dimensions": {"colour": {"sides": ["warm", "cold"], "pairs": [["red", "blue"]], "keep": ["Red Cross"]}}}
        )
    )
    lex = Lexicon.load(path)
    assert (
        lex.swap("Red shirt, red cap, Red Cross, blue sky", ("colour",)).text
        == "Blue shirt, blue cap, Red Cross, red sky"
    )
    with pytest.raises(ConfigError, match="no dimension 'gender'"):
        lex.swap("x", ("gender",))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"dimensions": {"g": {"pairs": [["only-one"]]}}}))
    with pytest.raises(ConfigError, match="pair is two"):
        Lexicon.load(bad)
    with pytest.raises(ConfigError, match="cannot read"):
        Lexicon.load(tmp_path / "missing.json")


def test_product_and_institution_names_are_kept(lex):
    text = "Skills: Ms Office, Ms Excel, MS Word. Studied at Robert Morris University; Thomas Edison State College."
    assert swap(lex, text) == text
    assert swap(lex, "Ms Garcia led") == "Mr Garcia led"
