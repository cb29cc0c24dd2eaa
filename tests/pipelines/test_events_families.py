"""Town captures and the things that are not, one sentence per kind of wording: the hard
negatives and traps issue 4 lists (advancing, encircling, besieging, storming not finished,
fighting inside, repelled attacks, partial control, military sites, weapons and fighters, an
enclave, a redeployment under a deal, background, plans, denials; titles, suspects,
companies), and captures told in many ways. Sentences written for this test, on real towns;
no article of the devset is quoted."""

from __future__ import annotations

import pytest

from tests.fixtures.nlp.articles import town_capture_alerts as alerts

NOT_A_CAPTURE = [
    'Heavy shelling by the RSF drove thousands of residents out of the Sudanese city of El Fasher.',
    'Russian troops advanced toward the Ukrainian town of Pokrovsk on Tuesday, the governor said.',
    'Rebels in Sudan encircled the town of El Fasher on Sunday after days of fighting.',
    'Islamic State fighters besieged the Syrian town of Deir ez-Zor for a third year.',
    'M23 rebels stormed the Congolese town of Sake on Monday, but fighting was still raging in its streets.',
    'Fierce fighting raged inside the Ukrainian town of Bakhmut on Friday as Wagner pushed in.',
    'The Malian army repelled an attack by jihadists on the town of Boni on Sunday.',
    'Houthi rebels seized 70 percent of the Yemeni city of Marib, a tribal leader said.',
    'Taliban fighters took control of key parts of the Afghan city of Kunduz on Monday.',
    'Al-Shabaab militants captured a military base near the Somali town of Baidoa on Friday.',
    'Russian forces seized the heights overlooking the Ukrainian town of Siversk, officials said.',
    'The army said it had captured weapons and 20 fighters in the Nigerian town of Monguno.',
    'Syrian troops retook a desert enclave east of the town of Palmyra from Islamic State.',
    'Syrian government troops deployed to the town of Kobani under a deal with the Kurdish-led SDF.',
    'Islamic State fighters, who captured the Iraqi city of Mosul in 2014, were driven out in 2017.',
    'The rebels vowed to retake the town of Kidal in Mali within weeks.',
    'Capturing the Ukrainian town of Chasiv Yar would give Russia the high ground, analysts said.',
    'The army denied rebel claims that they had captured the Burmese town of Lashio.',
    'The jihadists are close to capturing the Malian town of Boni, residents said.',
    'Government forces were poised to take the Syrian city of Raqqa, a monitor said.',
    'The Sudanese army pushed RSF fighters out of a neighbourhood of Omdurman on Monday.',
    'An offensive to capture the Ukrainian town of Robotyne began on Thursday.',
    'Police captured a suspect in the town of Lewiston, Maine, on Saturday.',
    'Real Madrid captured the title in the Spanish city of Seville on Sunday.',
    'The investor took control of the company, based in the town of Reading, on Monday.',
    'Tory rebels took control of the debate in the town of Blackpool on Monday.',
    'The Yankees seized the lead in the city of Boston on Sunday night.',
    'Rebels attacked the town of Kalehe in Congo but were pushed back by the army.',
    'The army said it had foiled an attempt by insurgents to seize the town of Bama in Nigeria.',
    'Russia claimed it had taken Soledar, but Ukraine said its troops were still holding the town.',
    'M23 said it had captured the town of Masisi in Congo; the army said that was a lie.',
    'If the rebels take the Sudanese city of El Obeid, the road to Khartoum will be open.',
    'A year after IS captured the Iraqi city of Ramadi, its residents still live in camps.',
    'The Houthis might seize the Yemeni port city of Hodeidah, the UN warned.',
    'Arakan Army fighters captured dozens of junta soldiers near the Burmese town of Paletwa.',
    'Ukrainian forces pushed back a Russian assault on the town of Kurakhove overnight, the general staff said.',
    'The RSF shelled the city of El Obeid on Sunday, killing 12 civilians, a monitor said.',
    'Syrian rebels entered the outskirts of the city of Hama on Thursday, a war monitor said.',
    "Myanmar's junta launched air strikes on the town of Lashio after rebels captured the military headquarters there.",
    'Rebels claimed to have captured the town of Bunia in Congo, but the governor said government troops remained in control.',
    "Russia's defence ministry said its forces had repelled Ukrainian attacks near the village of Robotyne.",
    'The Taliban said they had no plans to capture the Afghan city of Herat by force.',
    'Congolese troops failed to retake the town of Rubaya from M23 rebels in Congo last week.',
    'The militants seized two police stations and a bank in the Nigerian town of Gwoza on Monday.',
    'Israeli troops captured a Hezbollah commander in the Lebanese village of Ayta ash Shab.',
    'Wagner fighters took the salt mine near the Ukrainian town of Soledar, the group said.',
    'An al-Shabaab attack on the Somali town of Beledweyne was repulsed by government troops.',
    'The Houthis said they would take the Yemeni city of Marib soon.',
    'Government troops were fighting to recapture the town of Ras Kamboni in Somalia.',
    'Residents of the Syrian town of Maaloula feared the rebels would seize it again.',
    'Sudanese army troops are within a few kilometres of the city of Wad Madani, a spokesman said.',
    'The storming of the Ethiopian town of Dessie by TPLF fighters was still under way on Sunday.',
    'Azerbaijani forces shelled the town of Shusha, Armenian officials said.',
    'Twitter was taken over by Elon Musk in a deal worth $44 billion.',
    'Liverpool took the lead in the city of Manchester when Salah scored in the 12th minute.',
    'The Greens took control of the council in the town of Brighton after the election.',
    'Firefighters brought the blaze in the Californian town of Paradise under control on Sunday.',
    'Police recaptured an escaped inmate in the Texas town of Huntsville on Friday.',
    'Protesters took over the main square of the Serbian town of Novi Sad on Saturday.',
    'Gunmen briefly took control of a television station in the Ecuadorian city of Guayaquil.',
]

CAPTURES = [
    "Russian forces captured the Ukrainian village of Krasnohorivka on Tuesday, Russia's defence ministry said.",
    'The town of Kalehe in Congo fell to M23 rebels on Sunday, residents said.',
    'Jihadists overran the town of Djibo in Burkina Faso on Monday, killing dozens.',
    "Sudan's army retook the city of Wad Madani from the RSF on Saturday.",
    'The Syrian town of Saraqeb was recaptured by government forces on Monday, state media said.',
    'Al-Shabaab fighters seized the Somali town of Mahas after African Union troops withdrew.',
    'Ethiopian federal forces have taken control of the town of Shire in Tigray, the government said.',
    "The Arakan Army said it had seized Paletwa township in Myanmar's Chin state.",
    'Houthi fighters took over the Yemeni town of Harib on Thursday, tribal sources said.',
    'Ukrainian troops liberated the village of Staromaiorske in Donetsk region, Kyiv said on Thursday.',
    'M23 rebels have captured the town of Rubaya in eastern Congo, a local official said on Tuesday.',
    'The strategic town of Sake in Congo was overrun by M23 fighters on Friday.',
    "Taliban fighters seized Herat, Afghanistan's third-largest city, on Thursday, officials said.",
    'Islamic State militants have seized control of the Syrian town of Palmyra, a monitor said.',
    'After weeks of fighting, Iraqi forces drove Islamic State out of the city of Fallujah on Sunday.',
    'The jihadists took the Malian town of Konna on Thursday, residents said.',
    "Ukraine's military said on Monday its forces had retaken the village of Klishchiivka near Bakhmut.",
    'Rebel fighters in Myanmar said they had captured the town of Laukkai from the junta on Friday.',
    'Government troops in Mozambique regained control of the town of Palma on Sunday, the army said.',
    'Fano militia fighters took over the Ethiopian town of Lalibela on Wednesday, residents said.',
    'The army said it had liberated the Nigerian town of Damasak from Boko Haram.',
    'Somali troops and local militia captured the town of Adan Yabaal from al-Shabaab on Sunday.',
    "Azerbaijan's army took the town of Shusha from Armenian forces, President Aliyev said.",
    "Houthi fighters have seized the town of Harib in Yemen's Marib province, tribal sources said.",
    'Syrian rebels captured the city of Aleppo on Saturday in a lightning offensive, a war monitor said.',
]


@pytest.mark.parametrize("text", NOT_A_CAPTURE)
def test_no_alert_for_what_is_not_a_recent_town_capture(text: str) -> None:
    assert alerts(text) == []


@pytest.mark.parametrize("text", CAPTURES)
def test_one_alert_for_a_town_capture_however_it_is_told(text: str) -> None:
    assert len(alerts(text)) == 1
