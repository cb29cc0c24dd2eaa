"""The gazetteer resolves romanisations of one place to one GeoNames id, using context."""

from __future__ import annotations

import pytest

from pipelines.gazetteer import Context, default_gazetteer
from pipelines.text import fold, skeleton

SYRIA = Context(frozenset({"SY"}))
AS_SUKHNAH, DEIR_EZ_ZOR, AL_QARYATAYN, TADMUR = 172425, 170794, 173361, 163808


@pytest.mark.parametrize("surface", ["al-Sukhna", "Sukhna", "Sukhneh", "As Sukhnah", "Al-Sukhna"])
def test_spellings_of_al_sukhna_resolve_to_as_sukhnah_in_homs(surface: str) -> None:
    match = default_gazetteer().resolve(surface, SYRIA)
    assert match is not None
    assert (match.place.geonames_id, match.place.country, match.place.admin1) == (AS_SUKHNAH, "SY", "Homs")


@pytest.mark.parametrize("surface", ["Deir Ezzor", "Deir ez-Zor", "Deir al-Zor", "Deir Al-Zor", "Deir el-Zour"])
def test_spellings_of_deir_ez_zor_resolve_to_the_city(surface: str) -> None:
    match = default_gazetteer().resolve(surface, SYRIA)
    assert match is not None and match.place.geonames_id == DEIR_EZ_ZOR
    assert match.place.admin1 == "Deir ez-Zor" and match.place.populated


@pytest.mark.parametrize("surface", ["Qaryatain", "al-Qaraytan", "Al Qaryatayn"])
def test_spellings_of_al_qaryatayn_resolve_with_syria_in_context(surface: str) -> None:
    match = default_gazetteer().resolve(surface, SYRIA)
    assert match is not None and match.place.geonames_id == AL_QARYATAYN


def test_context_picks_the_syrian_palmyra_over_american_ones() -> None:
    match = default_gazetteer().resolve("Palmyra", SYRIA)
    assert match is not None and match.place.geonames_id == TADMUR


def test_a_province_mention_resolves_to_the_first_level_region() -> None:
    match = default_gazetteer().resolve("Homs", SYRIA, region=True)
    assert match is not None
    assert (match.place.feature_code, match.place.name, match.place.latitude) == ("ADM1", "Homs", None)


def test_loose_spelling_needs_the_country_in_context() -> None:
    assert default_gazetteer().resolve("Qaryatain") is None


def test_alternate_names_of_far_away_places_are_not_trusted_without_context() -> None:
    # GeoNames lists "Africa" as an alternate name of Mahdia, Tunisia.
    assert default_gazetteer().resolve("Africa") is None


def test_countries_resolve_with_iso_code() -> None:
    match = default_gazetteer().resolve("Syria")
    assert match is not None and (match.place.feature_code, match.place.country) == ("PCLI", "SY")


def test_folding_removes_articles_accents_and_final_h() -> None:
    assert fold("As Sukhnah") == fold("al-Sukhna") == "sukhna"
    assert fold("Dar‘ā") == "dara"
    assert skeleton("al-Qaraytan") == skeleton("Qaryatain") == "krtn"


def test_a_loose_spelling_keeps_the_first_letter_a_prefix_makes_another_place() -> None:
    # Consonants of "Maiorsk" are in "Staromaiorske" too; the prefix makes it another village.
    match = default_gazetteer().resolve("Maiorsk", Context(frozenset({"UA"})))
    assert match is None or not fold(match.place.name).startswith("staro")


def test_a_loose_spelling_of_a_small_village_is_not_taken_for_another_village() -> None:
    # Kawlin (Sagaing) is not in cities500; Kalein (a village of 2,000 near Yangon) only
    # shares its consonants. Unresolved is better than wrong.
    assert default_gazetteer().resolve("Kawlin", Context(frozenset({"MM"})), cue=True) is None


def test_a_loose_spelling_must_be_in_the_region_the_article_names() -> None:
    myanmar = Context(frozenset({"MM"}))
    assert default_gazetteer().resolve("Minbya", myanmar) is not None  # Minbu, a town in Magway
    assert default_gazetteer().resolve("Minbya", Context(myanmar.countries, frozenset({("MM", "Rakhine")}))) is None


def test_a_loose_spelling_is_not_sought_in_a_country_whose_regions_the_article_never_names() -> None:
    # A Ukrainian article names Donetsk and Russia (the attacker): "Girnyk" is no Gornyak in Russia.
    context = Context(frozenset({"UA", "RU"}), frozenset({("UA", "Donetsk")}))
    assert default_gazetteer().resolve("Girnyk", context, cue=True) is None
    # Without a named region, a country in context still admits a loose spelling there.
    match = default_gazetteer().resolve("Girnyk", Context(frozenset({"RU"})), cue=True)
    assert match is not None and match.place.country == "RU"
