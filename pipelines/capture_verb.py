"""The capture verb: the words that tell a place changing hands. The capture rules read
each match; the modality rules (a denial in the next sentence) and the first pass of
``extract_events`` only ask whether a sentence holds one."""

from __future__ import annotations

import re

CAPTURE_VERB = re.compile(
    # "The town is now under the control of M23", "fell under rebel control" (passive).
    # ("Key towns … have fallen under Al-Shabaab control", "had briefly fallen under the control of")
    r"\b(?:(?:(?:is|are|was|were)\s+now|fell|(?:has|have|had)\s+(?:\w+ly\s+)?fallen|came|comes|come)\s+under(?=\s+(?:the\s+)?"
    r"(?:full\s+|complete\s+|total\s+)?(?:control|[\w-]+(?:\s+[\w-]+)?\s+control)\b)|"
    r"(?:re)?captur(?:e|es|ed|ing)|seiz(?:e|es|ed|ing)|(?:re)?t(?:ook|ake|akes|aken|aking)|"
    r"overr(?:an|un|uns|unning)|secur(?:e|es|ed|ing)|liberat(?:e|es|ed|ing)|"
    r"wrest(?:s|ed|ing)?|(?:re)?gain(?:s|ed|ing)?|restor(?:e|es|ed|ing)|fell|falls|fallen|"
    # A change of hands told as a state: "the rebels are now in control of the town of X",
    # "It is now controlled by the militants" (not "still in control": no change).
    # ('were in "full" control of Kajo-Keji': the quotes of a quoted word allowed)
    r"(?<!still\s)(?:is|are|was|were|now|(?:has|have|had)\s+been)\s+(?:now\s+)?in\s+"
    r"(?:[\"“]?(?:full|complete|total)[\"”]?\s+)?control|"
    # "the TPLF has reassumed control of the regional capital"
    r"(?:re)?assum(?:e|es|ed|ing)(?=\s+(?:full\s+|complete\s+|total\s+)?control\s+(?:of|over)\b)|"
    # "Mocimboa da Praia was occupied by insurgents" (not "the occupied city of X", "Russian-occupied")
    r"(?<![-\w])(?<!the\s)(?<!an\s)occup(?:y|ies|ied|ying)|"
    # "the city of Lyman has been freed", "was fully freed"
    r"(?<=been\s)freed|(?<=was\s)freed|(?<=were\s)freed|(?<=fully\s)freed|"
    # "Russia said it had full control of the town": only full control tells a change.
    r"(?:has|have|had)\s+(?:now\s+)?(?:full|complete|total)\s+control|"
    # "Boko Haram hoisted its flag in Baga", "raised the Ukrainian flag over the village":
    # the way a taken town is shown.
    r"(?:hoist|rais)(?:ed|es|ing)?\s+(?:(?:its|their|the|a)\s+)?(?:[\w-]+\s+)?flags?\s+(?:in|over|above)|"
    # "X is back in Ukrainian hands" (passive: the town is the subject).
    r"(?:is|are|was|were)\s+(?:now\s+)?back\s+in\s+(?:[\w-]+\s+){1,2}?hands|"
    # "the first township reported to fall to the Arakan Army": only after such a verb
    # (bare "fall to" is mostly a forecast).
    r"(?<=reported\sto\s)fall|(?<=said\sto\s)fall|(?<=confirmed\sto\s)fall|"
    # "became the first provincial capital to fall to the militants"
    r"(?<=town\sto\s)fall|(?<=city\sto\s)fall|(?<=capital\sto\s)fall|(?<=village\sto\s)fall|"
    r"(?<=township\sto\s)fall|"
    # "insurgents on Saturday claimed control of Sheberghan" (a claim: told by the side).
    r"claim(?:ed|s)?\s+(?:full\s+|complete\s+|total\s+)?control\s+(?:of|over)|"
    # "Iraqi forces drove Islamic State out of the city of Fallujah" (an armed side driven out).
    r"(?:drove|driven|drive|drives|driving|pushed|forced|kicked|chased)\s+(?:[\w'’-]+\s+){1,4}?out\s+of|"
    # "a day after the city of Mosul was lost to militants" (passive, like "fell to")
    r"(?<=was\s)lost(?=\s+to\b)|(?<=were\s)lost(?=\s+to\b)|(?<=been\s)lost(?=\s+to\b)|"
    # "Ukrainian troops now control Slovyansk" (a change of hands told as the new state)
    r"now\s+controls?|"
    r"now\s+(?:controlled|held))\b", re.IGNORECASE)
