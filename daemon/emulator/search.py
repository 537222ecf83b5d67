"""The emulated Google Search grounding: questions about the world get sources.

When a setup declares `{"googleSearch": {}}` (docs/live-protocol.md, "Model
generations"), a question about the weather, news, scores or prices is
answered from "search results" and the turn carries `groundingMetadata` with
the query and the pages. The pages are invented, under the reserved
`.example` domain, so nobody mistakes them for real ones; the answer says so
too. Without the search tool the model says it cannot look things up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_TOPICS: tuple[tuple[str, frozenset[str]], ...] = (
    ("weather", frozenset({"rain", "weather", "forecast", "temperature", "sunny", "snow",
                           "umbrella", "hot", "cold", "wind", "storm"})),
    ("news", frozenset({"news", "headlines", "happened", "latest"})),
    ("scores", frozenset({"score", "scores", "won", "win", "match", "game", "final", "league"})),
    ("prices", frozenset({"price", "prices", "cost", "costs", "stock", "bitcoin", "dollar",
                          "exchange", "rate"})),
)  # fmt: skip


@dataclass(frozen=True)
class SearchAnswer:
    """What the emulated model found: the metadata frame's body and what it says."""

    metadata: dict[str, Any]
    reply: str


def topic_of(utterance: str) -> str | None:
    """weather, news, scores or prices when the question needs a search, else None."""
    words = set(re.findall(r"[a-z]+", utterance.lower()))
    for topic, keys in _TOPICS:
        if words & keys:
            return topic
    return None


def _place(utterance: str) -> str:
    match = re.search(r"\b(?:in|at|for)\s+([A-Z][\w-]*(?:\s+[A-Z][\w-]*)*)", utterance)
    return match.group(1) if match else "your area"


def search(utterance: str, topic: str) -> SearchAnswer:
    """The grounding metadata and the spoken answer for a question on `topic`."""
    query = utterance.strip().rstrip("?.!")
    place = _place(utterance)
    slug = re.sub(r"[^a-z0-9]+", "-", place.lower()).strip("-") or "here"
    sources = {
        "weather": [
            (f"{place} weather forecast", f"https://weather.example/forecast/{slug}"),
            (f"Rain radar for {place}", f"https://rainradar.example/{slug}"),
        ],
        "news": [("Today's headlines", "https://news.example/today")],
        "scores": [("Latest results", "https://scores.example/results")],
        "prices": [("Market prices", "https://markets.example/prices")],
    }[topic]
    said = {
        "weather": f"The forecast for {place} says showers are likely tomorrow afternoon, "
        "so take an umbrella.",
        "news": "The top story today is about the local elections.",
        "scores": "The home team won two to one last night.",
        "prices": "Prices are about the same as yesterday.",
    }[topic]
    reply = f"{said} That is from {sources[0][0]}, an emulated search result."
    metadata = {
        "webSearchQueries": [query],
        "groundingChunks": [{"web": {"uri": uri, "title": title}} for title, uri in sources],
        "searchEntryPoint": {"renderedContent": f"<div class='search'>{query}</div>"},
    }
    return SearchAnswer(metadata, reply)


NO_SEARCH_REPLY = "I cannot look that up: searching is turned off on this speaker."
