"""Measurement 1: pages/s from URL to clean article text, newswatch next to the floor
(trafilatura alone) and to peers (newspaper4k, news-please), on the same pages from
the same local server, one thread each, runs interleaved.

Two views: ``fetch+extract`` (URL in, text out, each tool with its own downloader) and
``extract`` (the same HTML already in memory), so a difference can be put on the
download or on the parsing.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

log = logging.getLogger(__name__)

MIN_CHARS = 100  # what counts as "an article was extracted" (connectors.extract.MIN_TEXT_CHARS)


@dataclass(frozen=True)
class Tool:
    name: str
    fetch_extract: Callable[[str], str]  # URL -> text
    extract: Callable[[str, str], str]  # (html, url) -> text
    close: Callable[[], None] = lambda: None


def newswatch_tool() -> Tool:
    from connectors.extract import ExtractionError, extract_page
    from connectors.http import Fetcher, FetchSettings
    from connectors.sources import read_url
    from schemas import RawDocument

    fetcher = Fetcher(FetchSettings(allowed_networks=("127.0.0.0/8",)))

    def fetch_extract(url: str) -> str:
        docs = list(read_url(url, fetcher))  # the connectors' path: fetch, sniff, extract
        return docs[0].text if docs and isinstance(docs[0], RawDocument) else ""

    def extract(page: str, url: str) -> str:
        try:
            return extract_page(page, url).text
        except ExtractionError:
            return ""
    return Tool("newswatch", fetch_extract, extract, fetcher.close)


def trafilatura_tool() -> Tool:
    import trafilatura
    from trafilatura.settings import use_config

    # Its downloader refuses loopback addresses by default, as ours does; both are told
    # to allow the local server.
    config = use_config()
    config.set("DEFAULT", "SSRF_PROTECTION", "False")

    def extract(page: str, url: str) -> str:
        return trafilatura.extract(page, url=url, with_metadata=True) or ""

    def fetch_extract(url: str) -> str:
        page = trafilatura.fetch_url(url, config=config)
        return extract(page, url) if page else ""
    return Tool("trafilatura", fetch_extract, extract)


def _offline_suffix_list() -> None:
    # newspaper4k and news-please name sites with tldextract, which downloads the public
    # suffix list on first use; nothing may download at run time: its bundled snapshot.
    import tldextract.tldextract as tld
    tld.TLD_EXTRACTOR = tld.TLDExtract(suffix_list_urls=(), cache_dir=None)


def newspaper_tool() -> Tool:
    _offline_suffix_list()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "nltk is not installed": not needed to extract
        import newspaper

    def fetch_extract(url: str) -> str:
        article = newspaper.Article(url, fetch_images=False)
        article.download()
        article.parse()
        return article.text or ""

    def extract(page: str, url: str) -> str:
        article = newspaper.Article(url, fetch_images=False)
        article.download(input_html=page)
        article.parse()
        return article.text or ""
    return Tool("newspaper4k", fetch_extract, extract)


def newsplease_tool() -> Tool:
    _offline_suffix_list()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from newsplease import NewsPlease

    def fetch_extract(url: str) -> str:
        article = NewsPlease.from_url(url, request_args={"timeout": 10}, fetch_images=False)
        return (getattr(article, "maintext", None) or "") if article else ""

    def extract(page: str, url: str) -> str:
        article = NewsPlease.from_html(page, url=url, fetch_images=False)
        return (getattr(article, "maintext", None) or "") if article else ""
    return Tool("news-please", fetch_extract, extract)


def tools() -> tuple[list[Tool], dict[str, str]]:
    """The tools that load here, and why the others do not."""
    found, missing = [], {}
    for make in (newswatch_tool, trafilatura_tool, newspaper_tool, newsplease_tool):
        try:
            found.append(make())
        except ImportError as exc:  # a peer not installed: pip install -e '.[bench]'
            missing[make.__name__.removesuffix("_tool")] = str(exc)
    return found, missing


def measure(urls: Sequence[str], pages: Sequence[str], repeats: int) -> dict:
    """Medians of ``repeats`` interleaved runs of every tool over every page."""
    available, missing = tools()
    rates: dict[str, dict[str, list[float]]] = {t.name: {"fetch+extract": [], "extract": []}
                                                for t in available}
    extracted: dict[str, int] = {}
    for tool in available:  # warm-up: imports, lazy models, connection pools
        tool.fetch_extract(urls[0])
        tool.extract(pages[0], urls[0])
    for r in range(repeats):
        order = available[r % len(available):] + available[:r % len(available)]
        for tool in order:
            start = time.perf_counter()
            texts = [tool.fetch_extract(u) for u in urls]
            rates[tool.name]["fetch+extract"].append(len(urls) / (time.perf_counter() - start))
            start = time.perf_counter()
            for u, p in zip(urls, pages):
                tool.extract(p, u)
            rates[tool.name]["extract"].append(len(urls) / (time.perf_counter() - start))
            extracted[tool.name] = sum(len(t) >= MIN_CHARS for t in texts)
    for tool in available:
        tool.close()
    return {"pages": len(urls), "repeats": repeats, "rates": rates, "extracted": extracted,
            "missing": missing}
