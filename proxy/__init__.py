"""aliasgate: a privacy gateway for AI APIs.

One request flows top to bottom through small modules:

    app -> routes -> formats/<api> -> detect -> tokens -> upstream
        -> formats/<api> (responses, streams) -> reidentify -> audit
"""

__version__ = "0.1.0"
