"""Pure logic of newswatch and the Beam transforms that compose it.

Nothing in this package reads or writes the outside world except the
``run`` entry points (``embedded``), which attach sources and sinks from
``connectors`` around the composite ``transforms.AnalyzeNews``.
"""

import logging

logging.getLogger(__name__).addHandler(logging.NullHandler())
