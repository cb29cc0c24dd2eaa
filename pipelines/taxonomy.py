"""The event taxonomy the rules emit: ACLED event types and sub-types, their CAMEO codes,
and the order of the modalities from the least to the most factual."""

from __future__ import annotations

from schemas.models import Modality

BATTLES = "Battles"
EXPLOSIONS = "Explosions/Remote violence"
VAC = "Violence against civilians"
GOV_REGAINS = "Government regains territory"
NSA_OVERTAKES = "Non-state actor overtakes territory"
ARMED_CLASH = "Armed clash"
CAPTURE_SUBTYPES = frozenset({GOV_REGAINS, NSA_OVERTAKES})

CAMEO = {GOV_REGAINS: "192", NSA_OVERTAKES: "192", ARMED_CLASH: "190", "Air/drone strike": "195",
         "Suicide bomb": "1831", "Remote explosive/landmine/IED": "183",
         "Abduction/forced disappearance": "181", "Attack": "180"}

# Strongest first: when one sentence shows several cues, the first wins.
MODALITY_RANK = {"denied": 0, "hypothetical": 1, "planned": 2, "background": 3, "claimed": 4, "asserted": 5}
# What is reported as news: only these raise alerts, cluster, or count as a capture.
NEWS_MODALITIES: tuple[Modality, ...] = ("asserted", "claimed")
