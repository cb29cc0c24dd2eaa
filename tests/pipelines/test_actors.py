"""The actor dictionary: validated at load, matched on word boundaries."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.actors import ActorDictionaryError, default_actors, parse_actors


def ids(text: str, country: str | None = None) -> list[str]:
    return [m.actor.id for m in default_actors().find(text, country)]


@pytest.mark.parametrize("alias", ["Islamic State", "IS", "ISIS", "ISIL", "Daesh", "the Islamic State group"])
def test_every_name_of_islamic_state_is_one_actor(alias: str) -> None:
    assert ids(f"Fighting with {alias} continued.") == ["islamic_state"]


def test_short_acronyms_are_case_sensitive_and_whole_words() -> None:
    assert ids("This is where it is.") == []
    assert ids("the ISLAND and THIS") == []
    assert ids("an IS-held town") == ["islamic_state"]


def test_an_acronym_inside_shouted_text_is_an_english_word() -> None:
    assert ids("WHAT IS NEXT FOR THE REGION") == []


def test_government_forces_name_the_syrian_army_only_in_an_article_about_syria() -> None:
    assert ids("Government forces advanced.", "SY") == ["sy_army"]
    assert ids("Government forces advanced.", "SD") == ["saf"]
    assert ids("Government forces advanced.", None) == []


def test_longest_alias_wins() -> None:
    assert ids("Islamic State West Africa Province fighters") == ["iswap"]
    assert ids("Hayat Tahrir al-Sham, formerly Fateh al-Sham") == ["hts", "hts"]


def test_other_conflicts_are_covered() -> None:
    text = ("The RSF fought the Sudanese army; M23 rebels and the Houthis; JNIM and the Tatmadaw; "
            "al-Shabaab, Hamas, the IDF, ISWAP and Wagner Group mercenaries; Ukrainian forces and Russian troops.")
    assert set(ids(text)) >= {"rsf", "saf", "m23", "houthis", "jnim", "mm_military", "al_shabaab", "hamas",
                              "idf", "iswap", "wagner", "ua_forces", "ru_forces"}


def test_every_actor_has_a_source_and_a_kind() -> None:
    for actor in default_actors().actors:
        assert actor.source and actor.kind in {"state_force", "non_state", "militia", "private_military"}


def entry(**fields: object) -> dict[str, object]:
    return {"id": "x", "name": "X", "kind": "non_state", "country": "SY", "aliases": ["X"], "source": "ref"} | fields


def test_a_duplicate_alias_across_actors_names_file_and_entry() -> None:
    raw = {"actors": [entry(id="a", aliases=["Alpha"]), entry(id="b", aliases=["alpha"])]}
    with pytest.raises(ActorDictionaryError, match=r"actors\.yaml: entry 2 \(b\): alias 'alpha' already belongs to 'a'"):
        parse_actors(raw, Path("actors.yaml"))


@pytest.mark.parametrize("bad, message", [
    ({"kind": "army"}, "'kind' must be one of"),
    ({"source": ""}, "'source' is required"),
    ({"aliases": []}, "at least one alias"),
    ({"country": "Syria"}, "alpha-2"),
    ({"colour": "red"}, "unknown fields"),
])
def test_malformed_entries_are_rejected_with_a_clear_error(bad: dict[str, object], message: str) -> None:
    with pytest.raises(ActorDictionaryError, match=message):
        parse_actors({"actors": [entry(**bad)]}, Path("actors.yaml"))


def test_generic_descriptions_are_actors_and_named_groups_win() -> None:
    actors = default_actors()
    found = [(m.surface, m.actor.id, m.actor.generic) for m in actors.find("Islamist rebels and M23 rebels clashed.")]
    assert found == [("Islamist rebels", "jihadists", True), ("M23 rebels", "m23", False)]


def test_a_description_before_a_name_is_not_a_second_actor() -> None:
    found = [m.actor.id for m in default_actors().find("the Syrian rebel group Jaish al-Islam said")]
    assert found == ["jaish_al_islam"]
