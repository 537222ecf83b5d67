"""Owner tools that make one HTTP request to a device or service the owner names.

Placeholders are filled so that a value can never change the request's shape:
URL-encoded in the URL (a `/`, `?` or `#` in a value is data, not structure),
JSON-encoded in the body. The scheme and host are fixed by the config. Redirects
are not followed: a device that answers 3xx gets reported, not chased. The
status and at most OUTPUT_CAP bytes of the body go back to the model.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import logging
import ssl
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from daemon.config.tools import OUTPUT_CAP, PLACEHOLDER, HeaderFromFile, HttpAction
from daemon.tools.command import text_of

log = logging.getLogger(__name__)

USER_AGENT = "speakerd-tool"
SOCKET_MARGIN = 0.5  # the socket's own timeout usually speaks first; this is the backstop


class HttpFailed(RuntimeError):
    """The request could not be made, or the answer was not 2xx; the message says which."""


def refuse_dot_segment(value: Any) -> str | None:
    """`.` and `..` survive URL-encoding and would move up the path."""
    if value in (".", ".."):
        return "is a relative path segment"
    return None


def path_placeholders(action: HttpAction) -> set[str]:
    parts = urlsplit(action.url)
    return set(PLACEHOLDER.findall(parts.path))


def fill_url(template: str, values: Mapping[str, Any]) -> str:
    return PLACEHOLDER.sub(lambda m: quote(text_of(values[m.group(1)]), safe=""), template)


def fill_body(node: Any, values: Mapping[str, Any]) -> Any:
    """A copy of the body with values in place: "{x}" alone becomes the typed value."""
    if isinstance(node, str):
        whole = PLACEHOLDER.fullmatch(node)
        if whole:
            return values[whole.group(1)]
        return PLACEHOLDER.sub(lambda m: text_of(values[m.group(1)]), node)
    if isinstance(node, dict):
        return {key: fill_body(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [fill_body(item, values) for item in node]
    return node


def http_handler(
    name: str, action: HttpAction, timeout: float
) -> Callable[..., Awaitable[dict[str, Any]]]:
    async def call(**values: Any) -> dict[str, Any]:
        url = fill_url(action.url, values)
        body = None if action.body is None else json.dumps(fill_body(action.body, values))
        headers = await asyncio.to_thread(read_headers, action.headers)
        template = urlsplit(action.url)  # logged without the query: it may hold a key
        log.info("tool %s: %s %s://%s%s", name, action.method, *template[:3])
        # http.client in a thread: no redirects, and a socket timeout bounds every step.
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(request, action.method, url, headers, body, timeout),
                timeout + SOCKET_MARGIN,
            )
        except TimeoutError:
            raise HttpFailed(_late(timeout)) from None

    return call


def read_headers(declared: Mapping[str, str | HeaderFromFile]) -> dict[str, str]:
    headers = {"User-Agent": USER_AGENT}
    for key, value in declared.items():
        if isinstance(value, str):
            headers[key] = value
            continue
        try:
            secret = value.file.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise HttpFailed(
                f"cannot read the file for header {key} ({value.file}): {exc.strerror}"
            ) from None
        if "\n" in secret or "\r" in secret:
            raise HttpFailed(f"the file for header {key} ({value.file}) holds more than one line")
        headers[key] = value.prefix + secret
    return headers


def request(
    method: str, url: str, headers: dict[str, str], body: str | None, timeout: float
) -> dict[str, Any]:
    parts = urlsplit(url)
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(
            parts.netloc, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(parts.netloc, timeout=timeout)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    if body is not None:
        headers = {"Content-Type": "application/json", **headers}
    try:
        connection.request(method, target, body=body.encode() if body else None, headers=headers)
        response = connection.getresponse()
        data = response.read(OUTPUT_CAP + 1)  # one byte more tells that the body was cut
    except TimeoutError:
        raise HttpFailed(_late(timeout)) from None
    except (OSError, http.client.HTTPException) as exc:
        raise HttpFailed(
            f"{method} {parts.scheme}://{parts.netloc} failed: {_reason(exc)}"
        ) from None
    finally:
        connection.close()
    cut = len(data) > OUTPUT_CAP
    text = bytes(data[:OUTPUT_CAP]).decode(_charset(response), errors="replace").rstrip()
    if cut:
        text += f"\n[body cut at {OUTPUT_CAP} bytes]"
    status = response.status
    if 300 <= status < 400:
        where = response.getheader("Location") or "no Location"
        raise HttpFailed(f"HTTP {status} redirect to {where} (redirects are not followed)")
    if not 200 <= status < 300:
        raise HttpFailed(f"HTTP {status} {response.reason}: {text}" if text else f"HTTP {status}")
    return {"status": status, "body": text}


def _charset(response: http.client.HTTPResponse) -> str:
    charset = response.headers.get_content_charset() or "utf-8"
    try:
        "".encode(charset)
    except LookupError:
        return "utf-8"
    return charset


def _late(timeout: float) -> str:
    return f"no answer within its {timeout:g} s timeout"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError):
        return f"TLS: {exc.reason or exc}"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
