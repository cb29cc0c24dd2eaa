"""Capture rules of the fifth pass, written against the errors of the two former held-out
splits (retired to development when the third batch became the held-out set), checked on
sentences written for these tests: other towns, other conflicts, and the trap each rule
could fall into."""

from __future__ import annotations

from pipelines.entities import tag_entities
from tests.fixtures.nlp.articles import article
from tests.fixtures.nlp.articles import town_capture_alerts as alerts
from tests.fixtures.nlp.articles import town_capture_places as places


def test_a_time_in_a_relative_clause_dates_its_own_verb_not_the_capture() -> None:
    assert places("Rebels who signed a ceasefire three months ago seized the town of Kalehe in Congo "
                  "on Monday, officials said.") == {"Kalehe"}
    # The capture itself dated long ago is still background.
    assert alerts("Rebels seized the town of Kalehe in Congo three months ago, officials said.") == []


def test_two_towns_taken_are_the_two_towns_the_next_sentence_lists() -> None:
    text = ("The army in Congo says it has recaptured two eastern towns held by the M23 rebels. "
            "Troops moved into Uvira and Sake overnight, a spokesman said.")
    assert places(text) == {"Uvira", "Sake"}


def test_a_count_that_does_not_match_the_list_resolves_nothing() -> None:
    text = ("The army in Congo says it has recaptured two eastern towns held by the M23 rebels. "
            "Troops had passed through Uvira, Sake and Beni on the way, a spokesman said.")
    assert places(text) == set()


def test_the_long_country_name_is_one_place_not_a_town_called_republic() -> None:
    entities = tag_entities(article("Fighting spread in the Democratic Republic of Congo's east on Monday."))
    assert [(e.name, e.country) for e in entities if e.type == "PLACE"] == [
        ("Democratic Republic of the Congo", "CD")]


def test_a_backed_group_is_the_captor_not_a_backer() -> None:
    [event] = alerts("Rwandan-backed M23 rebels seized the town of Kalehe in eastern Congo on Tuesday, "
                     "residents said.")
    assert event.actor1_id == "actor:m23"


def test_a_described_town_is_the_one_whose_capture_the_next_sentence_names() -> None:
    text = ("Rebels have seized control of a lakeside town in eastern Congo's South Kivu province, "
            "residents said on Wednesday. The capture of Ndoromo brings the rebels closer to Bukavu.")
    assert places(text) == {"Ndoromo"}


def test_a_township_taken_is_its_town() -> None:
    text = ("Resistance fighters captured a key town in Myanmar's Shan state on Wednesday, residents said. "
            "The seizure of Hsipawng Township cut the highway.")
    assert places(text) == {"Hsipawng"}


def test_a_district_capital_is_a_town_not_a_district() -> None:
    text = ("Rebels seized a district capital in northern Myanmar on Monday, residents said. "
            "Hsipawng in the Shan state is the first capital seized by the rebels this year.")
    assert places(text) == {"Hsipawng"}


def test_a_described_town_is_the_one_town_a_later_sentence_names_beside_a_capture_word() -> None:
    text = ("Opposition fighters have captured a town in central Myanmar, the shadow government said. "
            "An analyst said the fighters may struggle to hold it. "
            "Fighters attacked soldiers in Kyaukme, before overpowering them and taking over the town.")
    assert places(text) == {"Kyaukme"}


def test_a_capital_or_a_speaker_named_later_is_not_the_described_town() -> None:
    text = ("Rebels have captured a town in eastern Ukraine, officials said. "
            "Kyiv said its forces had retreated after the town was captured.")
    assert places(text) == set()


def test_a_name_with_a_population_is_a_town() -> None:
    entities = tag_entities(article("Fighters may struggle to hold Ngwetaung, which has a population of "
                                    "around 25,000, an analyst said."))
    assert "Ngwetaung" in {e.name for e in entities if e.type == "PLACE"}


def test_a_misspelt_region_is_not_a_town_whose_spelling_is_close() -> None:
    entities = tag_entities(article("Kawlin in the Sangaing region fell on Monday. Sangaing has long been a "
                                    "stronghold of the resistance in Myanmar."))
    assert "Sangyoung" not in {e.name for e in entities}


def test_a_described_town_is_the_one_the_next_sentence_locates() -> None:
    text = ("Al-Shabaab militants took over a town close to the capital Mogadishu on Saturday, officials "
            "said. Ceel Gaabo, in Lower Shabelle, is about 40 km from Mogadishu.")
    assert places(text) == {"Ceel Gaabo"}


def test_a_name_home_to_thousands_of_people_is_a_town() -> None:
    text = ("The army regained control of a central Mali town briefly held by jihadists, security sources said. "
            "Tinguereda is home to several thousand people and was seized by jihadists on Friday.")
    assert places(text) == {"Tinguereda"}


def test_a_country_speaking_of_itself_is_its_own_forces() -> None:
    [event] = alerts("Ukraine says it has recaptured the village of Pryiutne in the Zaporizhzhia region.")
    assert event.actor1_id == "actor:ua_forces"
    assert event.sub_event_type == "Government regains territory"


def test_a_group_that_said_they_had_captured_is_the_captor() -> None:
    [event] = alerts("Russian forces said Tuesday they had captured the village of Pryiutne in Ukraine.")
    assert event.actor1_id == "actor:ru_forces"


def test_a_list_of_seized_towns_takes_the_captor_of_the_capture_just_reported() -> None:
    text = ("A string of towns in Ethiopia's Amhara region have been seized by Fano fighters, sources said. "
            "The seized towns include Debark, Gondar and Woldia.")
    found = alerts(text)
    assert len(found) == 3
    assert {e.actor1_id for e in found} == {"actor:fano"}


def test_a_captor_is_not_carried_past_two_sentences() -> None:
    text = ("A string of towns in Ethiopia's Amhara region have been seized by Fano fighters, sources said. "
            "Fighting continued near Bahir Dar. Aid groups left the area. Schools were closed. "
            "The town of Debark was taken on Monday.")
    assert {e.actor1_id for e in alerts(text)} == {None}


def test_forces_loyal_to_a_leader_are_his_state_forces() -> None:
    [event] = alerts("Forces loyal to Muammar Gaddafi captured the town of Zintan on Saturday, a rebel spokesman said.")
    assert event.actor1_id == "actor:ly_gaddafi_forces"


def test_hard_wrapped_lines_are_joined_into_their_sentence() -> None:
    text = ("Islamist rebels\nin Syria have retaken the town of Kafr Nabl from government\n"
            "forces, activists said on Friday.")
    [event] = alerts(text)
    assert event.location == "Kafranbel"  # GeoNames' spelling
    assert event.actor1_id is not None  # the captor is on the line before


def test_a_headline_stays_its_own_sentence() -> None:
    from pipelines.text import split_sentences

    assert split_sentences("Rebels take a town\nRebels took the town of Kafr Nabl.") == [
        "Rebels take a town", "Rebels took the town of Kafr Nabl."]


def test_a_capture_days_before_the_news_is_its_background() -> None:
    text = ("The RSF said it seized the town of Al Hasaheisa on Sunday. It came two days after the "
            "group seized the state capital Wad Madani.")
    assert places(text) == {"Al Hasaheisa"}


def test_a_dateline_is_not_the_town_referred_to() -> None:
    text = ("MOGADISHU – Al-Shabaab militants seized a southern town on Tuesday, witnesses said. "
            "The militants seized the town with no resistance, witnesses said.")
    assert places(text) == set()


def test_a_name_seized_or_overrun_is_a_place_whatever_the_person_label() -> None:
    entities = tag_entities(article("Al-Shabaab militants seized Ragi Ele on Tuesday morning, after "
                                    "African Union troops withdrew."))
    assert "Ragi Ele" in {e.name for e in entities if e.type == "PLACE"}


def test_towns_that_have_already_fallen_are_background() -> None:
    text = ("Rebels captured the town of Maw Luu on Monday, residents said. The Sagaing towns of "
            "Kawlin and Khampat have already fallen to resistance forces.")
    assert places(text) == {"Maw Luu"}
