"""Capture rules on sentences written for these tests, in phrasings and places the
devset rules were not written on: villages GeoNames lacks, generic actors, states of
control, and the traps each new rule could fall into."""

from __future__ import annotations

import pytest

from tests.fixtures.nlp.articles import town_capture_alerts as alerts


@pytest.mark.parametrize(("text", "place", "country"), [
    # A name GeoNames lacks, as the bare object of a capture verb or its passive subject.
    ("Rebels in eastern Congo seized Nyamilima on Sunday after the army withdrew, residents said.", "Nyamilima", "CD"),
    ("After heavy fighting, Nyamilima fell to the rebels on Sunday, a local official in eastern Congo said.",
     "Nyamilima", "CD"),
    ("In eastern Congo, the village of Nyamilima was overrun by the rebels on Sunday, an official said.",
     "Nyamilima", "CD"),
    # An apposition says it is a village.
    ("M23 rebels took over Kabizo, a village in North Kivu in Congo, on Monday, residents said.", "Kabizo", "CD"),
    # "X township" is the town.
    ("The Arakan Army said it had captured Minbya township in Myanmar's Rakhine state.", "Minbya", "MM"),
    # A state of control, told as news.
    ("The town of Sake in Congo is now under the control of M23 rebels, a local official said.", "Sake", "CD"),
    # "Sudan's army": a possessive still names the country the article is about.
    ("Sudan's army said on Saturday it had retaken Wad Madani from the Rapid Support Forces.", "Wad Medani", "SD"),
])
def test_captures_of_places_in_new_phrasings_alert(text: str, place: str, country: str) -> None:
    assert [(e.location, e.country_code) for e in alerts(text)] == [(place, country)]


@pytest.mark.parametrize("text", [
    "Syrian government forces captured Abu Bakr al-Suri, a senior commander, in Idlib on Monday, state media said.",
    "Rebels in eastern Congo seized Toyota pickups and rifles after an ambush near Goma, the army said.",
    "Russian forces seized Azovstal, the steel plant in Mariupol, after a long siege, Ukraine's military said.",
    "Taliban fighters took Sheberghan airport in Afghanistan on Saturday, officials said.",
    # A denial in the next sentence, without the word "claim".
    "Russia's Wagner group said it had taken Bakhmut. The Ukrainian army denied that Bakhmut fell.",
    # Under control, but no change of hands.
    "The town of Sake in Congo is still under the control of the army, a local official said.",
])
def test_people_things_features_and_denials_are_not_town_captures(text: str) -> None:
    assert alerts(text) == []


def test_the_rebels_are_the_named_group_the_article_is_about() -> None:
    text = ("M23 rebels have advanced in eastern Congo for weeks. "
            "On Sunday the rebels seized the town of Kiwanja, residents said.")
    [event] = alerts(text)
    assert (event.location, event.actor1_id) == ("Kiwanja", "actor:m23")


def test_generic_jihadists_take_a_town_when_no_group_is_named() -> None:
    [event] = alerts("Jihadists have taken control of Tessit in northern Mali, local officials said on Wednesday.")
    assert (event.location, event.actor1_id, event.sub_event_type) == (
        "Tessit", "actor:jihadists", "Non-state actor overtakes territory")


def test_two_spellings_of_a_village_geonames_lacks_are_one_capture() -> None:
    text = ("Russian forces captured the village of Solovyove in the Donetsk region of Ukraine, Moscow said. "
            "As a result of offensive actions, the village of Solovyovo was liberated, the ministry said.")
    assert len(alerts(text)) == 1
