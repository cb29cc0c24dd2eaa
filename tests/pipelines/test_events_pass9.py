"""Place and actor rules of the ninth pass, written against the errors of the sixth batch
(retired to development when a seventh batch became the held-out set) and then of the seventh
(retired when an eighth did), checked on sentences written for these tests: other towns, other
conflicts, and the trap each rule could fall into.
The names Mbweruka, Ngorobi, Ruhondo and Wadhaye are made up (GeoNames has none of them)."""

from __future__ import annotations

from pipelines.taxonomy import GOV_REGAINS, NSA_OVERTAKES
from tests.fixtures.nlp.articles import tagged
from tests.fixtures.nlp.articles import town_capture_alerts as alerts


def places(text: str, title: str = "") -> dict[str, str | None]:
    """Each place entity of the article, by the name it was resolved to: its country."""
    return {e.name: e.country for e in tagged(text, title=title).entities if e.type == "PLACE"}


def test_a_town_geonames_lacks_is_in_the_country_where_the_article_first_names_it() -> None:
    # The capture sentence names a neighbour (Uganda); the town was placed a sentence before.
    text = ("Fighting raged around the town of Mbweruka in Congo's North Kivu province on Monday. "
            "M23 rebels seized Mbweruka town on Tuesday, a Red Cross worker said from the Uganda border.")
    [event] = alerts(text)
    assert (event.location, event.country_code, event.sub_event_type) == ("Mbweruka", "CD", NSA_OVERTAKES)


def test_a_town_only_referred_to_is_where_it_was_named() -> None:
    text = ("Hundreds have fled the town of Wadhaye in central Somalia since Sunday. "
            "It is now controlled by al-Shabaab fighters, who Kenya's army says came from Ethiopia.")
    [event] = alerts(text)
    assert (event.location, event.country_code) == ("Wadhaye", "SO")


def test_among_countries_of_an_earlier_sentence_the_one_the_article_is_about_wins() -> None:
    # Not the first in the alphabet (Cameroon) of a list of partners.
    text = ("Nigeria's army has fought Boko Haram with a force formed by Nigeria, Chad, Cameroon and Niger. "
            "The Nigerian army said on Sunday it had retaken Ngorobi from the militants.")
    [event] = alerts(text)
    assert (event.location, event.country_code, event.sub_event_type) == ("Ngorobi", "NG", GOV_REGAINS)


def test_a_capital_or_country_standing_for_its_government_does_not_place_a_town() -> None:
    text = ("Russian forces pressed on in eastern Ukraine's Donetsk region on Tuesday. "
            "Moscow's troops advanced closer to the key logistics hub of Pokrovsk, the ministry said.")
    assert places(text)["Pokrovsk"] == "UA"  # not Engels, once called Pokrovsk, in Russia
    # Where a country's possessive locates, it still places: "Ukraine's eastern Donetsk region".
    assert places("Fighting went on near Pokrovsk in Ukraine's eastern Donetsk region.")["Pokrovsk"] == "UA"


def test_a_nationality_is_no_place_even_where_the_model_calls_it_one() -> None:
    text = ("Russia's defence ministry said on Tuesday that its forces had captured the eastern Ukrainian "
            "town of Selydove as Moscow's troops advanced in the Donetsk region.")
    assert "Ukrainian" not in places(text)
    assert {e.location for e in alerts(text)} == {"Selydove"}


def test_a_capture_verb_in_a_title_case_headline_names_no_town() -> None:
    title = "Rebels Seize Town North of Bangui, Population Flees"
    text = ("Seleka fighters surrounded the town of Sibut, 180 kilometres north of Bangui, on Wednesday night. "
            "The fighters took full control of the town on Thursday, a police source said.")
    assert "Seize" not in places(text, title=title)
    assert "Key" not in places("Somali troops said they had entered Bulo Burde.",
                               title="Troops Recapture Key Town From Al-Shabaab")


def test_the_town_is_never_a_landmark_it_is_located_by() -> None:
    text = ("Seleka fighters surrounded Sibut on Wednesday night, sending residents of the town about 180 "
            "kilometres north of Bangui fleeing. The fighters took full control of the town on Thursday.")
    assert {e.location for e in alerts(text)} == {"Sibut"}


def test_a_name_right_after_a_town_noun_or_called_a_town_after_it_is_a_town() -> None:
    [event] = alerts("Somali forces recaptured the strategic town Ruhondo from al-Shabaab on Wednesday.")
    assert (event.location, event.sub_event_type) == ("Ruhondo", GOV_REGAINS)
    [event] = alerts('"Somali forces took over Ngorobi, which is a big town," the spokesman said on Wednesday.')
    assert event.location == "Ngorobi"
    # A town noun before an ordinary capitalised word names nothing: days and months are no towns.
    assert alerts("Rebels seized the town Monday, and nobody knows its name.") == []


def test_a_states_forces_named_without_the_state_are_that_states() -> None:
    [event] = alerts("Government security forces took full control of the village of Kabasalan in North "
                     "Cotabato province of the Philippines on Saturday, a military official said.")
    assert (event.actor1, event.sub_event_type) == ("Armed Forces of the Philippines", GOV_REGAINS)
    [event] = alerts("Federal forces took control of the town of Dessie in Ethiopia's Amhara region from TPLF "
                     "fighters, the government said.")
    assert (event.actor1, event.sub_event_type) == ("Ethiopian National Defense Force", GOV_REGAINS)
    [event] = alerts("Ethiopian defence forces took control of the town of Humera, officials said.")
    assert event.actor1 == "Ethiopian National Defense Force"


def test_a_claim_another_source_says_the_other_side_still_holds_is_denied() -> None:
    text = ("Russia's defence ministry said on Saturday its troops had seized the village of Petrivka in "
            "Ukraine's Dnipropetrovsk region. An online battlefield map said the village was still under "
            "Kyiv's control.")
    assert alerts(text) == []
    # The captor itself holding the town confirms the capture; it denies nothing.
    [event] = alerts("M23 rebels seized the town of Mbweruka in Congo's North Kivu province on Monday. "
                     "The town remains under M23 control, residents said.")
    assert event.location == "Mbweruka"
    # What a relative clause says still holds is its antecedent, not the town.
    [event] = alerts("Russian forces captured the town of Selydove in Ukraine's Donetsk region, the ministry said. "
                     "The town had the only coal mine in the region that remained under Ukrainian control.")
    assert event.location == "Selydove"


def test_a_claim_called_a_total_lie_is_denied() -> None:
    text = ("Azerbaijan's president said his forces had captured the town of Hadrut. A spokesman for the "
            "Armenian side said the claims of occupying Hadrut were a total lie.")
    assert alerts(text) == []


def test_control_of_a_city_except_some_areas_is_partial() -> None:
    text = ("Philippine troops are in complete control of Marawi City, except for certain areas where "
            "the militants continue to hold out, the military said on Monday.")
    assert alerts(text) == []


def test_a_regions_possessive_with_its_own_word_owns_the_town() -> None:
    [event] = alerts("Fighting raged across Rakhine State in western Myanmar on Tuesday. The Arakan Army took "
                     "complete control of Rakhine State's Pauktaw town on Wednesday, residents said.")
    assert (event.location, event.actor1) == ("Pauktaw", "Arakan Army")


def test_a_state_claiming_the_capture_is_its_forces() -> None:
    [event] = alerts("Russia claimed the capture of the Ukrainian town of Avdiivka on Saturday after Ukraine "
                     "withdrew its troops.")
    assert (event.actor1, event.modality) == ("Military Forces of Russia", "claimed")
    [event] = alerts("Islamist terror groups in Mali have seized the town of Diabaly, the French minister said.")
    assert event.actor1 == "Islamist armed groups (unidentified)"


def test_in_a_list_of_towns_the_names_geonames_lacks_are_towns_too() -> None:
    text = ("Sorman, Sabratha, Al-Ajilat, Ngorobi and Mbweruka have all been recaptured by GNA forces in "
            "western Libya, the government said.")
    assert {"Ngorobi", "Mbweruka"} <= {e.location for e in alerts(text)}
    # A town beside a person is no list of towns, nor is a possessive, nor a list a noun says is of
    # something else.
    assert "Haftar" not in places("In Sabratha, Haftar said his forces would return.")
    found = places("NTC forces pressed on at Bani Walid and Sirte, Gaddafi's birthplace, on Monday.")
    assert not any(name.startswith("Gaddafi") for name in found)
    assert "Gulf" not in places("The rail line links ports in Houston, Mobile, Gulf and Pacific coasts.")


def test_quoted_names_after_a_village_cue_are_villages_and_no_city_abroad() -> None:
    text = ("Azerbaijan's president said on Thursday his army had liberated the villages of \u201cArish\u201d "
            "and \u201cWadhaye\u201d in the Fuzuli district.")
    found = {(e.location, e.country_code) for e in alerts(text)}
    assert found == {("Arish", "AZ"), ("Wadhaye", "AZ")}  # not al-Arish in Egypt


def test_towns_or_villages_including_a_list_are_each_captured() -> None:
    text = ("Syrian government forces recaptured several villages in Hama province on Saturday. State media "
            "said the Syrian army had seized towns or villages including Mbweruka, Ngorobi and Wadhaye.")
    assert {e.location for e in alerts(text)} == {"Mbweruka", "Ngorobi", "Wadhaye"}



def test_states_whose_forces_the_dictionary_lacked_are_named() -> None:
    [event] = alerts("South Sudan's army has recaptured the town of Nasir from forces loyal to Riek Machar, "
                     "residents said.")
    assert (event.actor1, event.sub_event_type) == ("Military Forces of South Sudan", GOV_REGAINS)
    [event] = alerts("Lebanese troops took control of the town of Arsal from militants on Monday.")
    assert (event.actor1, event.sub_event_type) == ("Military Forces of Lebanon", GOV_REGAINS)


def test_a_foreign_state_fighting_beside_a_government_helps_it_regain_the_town() -> None:
    [event] = alerts("The port of Mocimboa da Praia in Mozambique has been captured by Rwandan and Mozambican "
                     "security forces, the Rwandan army said.")
    assert (event.actor1, event.sub_event_type) == ("Military Forces of Mozambique", GOV_REGAINS)
    # Another state's forces fighting the government take the town from it.
    [event] = alerts("Russian forces captured the village of Vuhledar in Ukraine's Donetsk region after "
                     "Ukrainian troops withdrew, the ministry said.")
    assert (event.actor1, event.sub_event_type) == ("Military Forces of Russia", NSA_OVERTAKES)


def test_a_philippine_barangay_is_a_village() -> None:
    text = ("Philippine soldiers and police regained Barangay Ruhondo in Pikit town of North Cotabato on "
            "Saturday, a military spokesman said.")
    [event] = alerts(text)
    assert (event.location, event.country_code, event.sub_event_type) == ("Ruhondo", "PH", GOV_REGAINS)


def test_a_country_that_acts_in_the_sentence_does_not_locate_its_villages() -> None:
    text = ("Syrian troops pushed through the north of Hama province on Friday. The army said its troops "
            "seized the villages of Mbweruka and Ngorobi, where Turkey maintains an observation post.")
    assert {(e.location, e.country_code) for e in alerts(text)} == {("Mbweruka", "SY"), ("Ngorobi", "SY")}
