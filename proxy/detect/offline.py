"""Keep tldextract (used by Presidio's email and URL recognizers) off the network.

By default tldextract downloads the Public Suffix List on first use. Replacing its module
level extractor with one that has no URLs and no cache makes it use the snapshot bundled
in the package: no request, no delay, no traceback.
"""

from __future__ import annotations


def use_bundled_suffix_list() -> None:
    import tldextract.tldextract as tld

    tld.TLD_EXTRACTOR = tld.TLDExtract(suffix_list_urls=(), cache_dir=None,
                                       fallback_to_snapshot=True)
