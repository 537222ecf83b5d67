"""Music for the tests, made on the spot with ffmpeg, and a web server that streams it.

No music files live in the repository: each test session synthesises short
tones (a different frequency per file, so what plays can be told from what
was asked for) in MP3, Ogg/Vorbis, AAC and Opus. The server on 127.0.0.1
serves them as plain files (with a length), as live radio (no length, ICY
metadata with changing titles, repeated for as long as the client reads),
as a stream that drops half way, and the usual ways to fail: 404, a web
page, bytes that are not audio, a codec ffmpeg lacks, playlists. HLS is made
by ffmpeg too (AAC in MPEG-TS segments of about a second): served whole as
a VOD playlist, and as a live one whose window slides with the clock.
"""

from __future__ import annotations

import contextlib
import http.server
import os
import struct
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

FORMATS = {"mp3": ("libmp3lame", "128k"), "ogg": ("libvorbis", "96k"),
           "aac": ("aac", "96k"), "opus": ("libopus", "64k")}  # fmt: skip
FREQUENCIES = {"mp3": 440, "ogg": 660, "aac": 550, "opus": 770}
METAINT = 4096
HLS_HZ = 990
HLS_TYPE = "application/vnd.apple.mpegurl"


def make_hls(folder: Path, frequency: float, seconds: float) -> list[tuple[str, float]]:
    """An HLS stream in `folder` (vod.m3u8 and its .ts segments): its (segment, duration)s."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
         "-i", f"sine=frequency={frequency}:sample_rate=44100:duration={seconds}",
         "-ac", "1", "-c:a", "aac", "-b:a", "64k", "-f", "hls", "-hls_time", "1",
         "-hls_playlist_type", "vod", "-hls_segment_filename", str(folder / "seg%03d.ts"),
         str(folder / "vod.m3u8")],
        check=True, capture_output=True,
    )  # fmt: skip
    lines = (folder / "vod.m3u8").read_text().splitlines()
    return [(lines[i + 1], float(line[8:].rstrip(",")))
            for i, line in enumerate(lines) if line.startswith("#EXTINF:")]  # fmt: skip


def make_tone(path: Path, frequency: float, seconds: float, *, tags: dict[str, str] | None = None,
              codec: str | None = None, bitrate: str = "96k") -> Path:  # fmt: skip
    """An encoded sine (mono 44.1 kHz) at `path`, its format from the suffix."""
    suffix = path.suffix.lstrip(".")
    codec, bitrate = (codec, bitrate) if codec else FORMATS.get(suffix, ("libmp3lame", "128k"))
    args = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
            "-i", f"sine=frequency={frequency}:sample_rate=44100:duration={seconds}",
            "-ac", "1", "-c:a", codec, "-b:a", bitrate]  # fmt: skip
    for key, value in (tags or {}).items():
        args += ["-metadata", f"{key}={value}"]
    if suffix == "aac":
        args += ["-f", "adts"]
    subprocess.run([*args, str(path)], check=True, capture_output=True)
    return path


def unknown_codec_wav(seconds: float = 1.0) -> bytes:
    """A WAV file whose format tag (0x1234) names no codec ffmpeg has."""
    data = os.urandom(int(32000 * seconds))
    fmt = struct.pack("<HHIIHH", 0x1234, 1, 16000, 32000, 2, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


class MediaServer:
    """A threaded HTTP server on a free port of 127.0.0.1 over a folder of made files."""

    def __init__(self, folder: Path, seconds: float = 4.0) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        for suffix, frequency in FREQUENCIES.items():
            make_tone(folder / f"tone.{suffix}", frequency, seconds)
        (folder / "noise.mp3").write_bytes(os.urandom(64 * 1024))
        (folder / "odd.wav").write_bytes(unknown_codec_wav())
        self.segments = [s for s in make_hls(folder / "hls", HLS_HZ, seconds) if s[1] >= 0.5]
        self.hls_plan: list[str] = []
        """What each request for hls/live.m3u8 meets, in turn: "404" or "play" (the default)."""
        self.hls_frozen = False
        """The live playlist stops moving on: no new segment ever comes (a stalled encoder)."""
        self._hls_started: float | None = None
        self._hls_first = 0
        self.titles = ["Artist One - First Song", "Artist Two - Second Song"]
        self.requests: list[str] = []
        self.drop_after: int | None = None  # bytes, for /drop.mp3 (None: half the file)
        self.drop_plan: list[str] = []
        """What each request to /drop.* meets, in turn: "drop" (half the file, then the
        connection closes), "stall" (half the file, then silence on an open connection),
        "404"; once used up, the stream plays on."""
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def url(self, path: str) -> str:
        return f"{self.base}/{path.lstrip('/')}"

    def __enter__(self) -> MediaServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def live_playlist(self) -> str:
        """A live media playlist: three segments, moving on one per segment's length from
        the first request, round the made segments (a discontinuity at each wrap)."""
        now = time.monotonic()
        if self._hls_started is None:
            self._hls_started = now
        step = sum(d for _, d in self.segments) / len(self.segments)
        if not self.hls_frozen:
            self._hls_first = int((now - self._hls_started) / step)
        first = self._hls_first
        lines = ["#EXTM3U", "#EXT-X-VERSION:3", f"#EXT-X-TARGETDURATION:{round(step + 0.5)}",
                 f"#EXT-X-MEDIA-SEQUENCE:{first}"]  # fmt: skip
        for sequence in range(first, first + 3):
            name, duration = self.segments[sequence % len(self.segments)]
            if sequence and sequence % len(self.segments) == 0:
                lines.append("#EXT-X-DISCONTINUITY")
            lines += [f"#EXTINF:{duration:.3f},", name]
        return "\n".join(lines) + "\n"

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server.requests.append(self.path)
                with contextlib.suppress(ConnectionError, BrokenPipeError):
                    self._answer(self.path.split("?")[0].lstrip("/"))

            def _answer(self, path: str) -> None:
                folder = server.folder
                if path == "page.html":
                    return self._send(b"<html><body>not music</body></html>", "text/html")
                if path == "list.m3u":
                    body = f"#EXTM3U\n#EXTINF:-1,Test\n{server.url('live.mp3')}\n"
                    return self._send(body.encode(), "audio/x-mpegurl")
                if path == "list.m3u8":  # a plain list, whatever the content type says
                    body = f"#EXTM3U\n#EXTINF:-1,Test\n{server.url('live.mp3')}\n"
                    return self._send(body.encode(), HLS_TYPE)
                if path == "hls/master.m3u8":
                    body = '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=64000,CODECS="mp4a.40.2"\nlive.m3u8\n'
                    return self._send(body.encode(), "application/x-mpegURL")
                if path == "hls/lost.m3u8":
                    body = '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=64000\nmissing.m3u8\n'
                    return self._send(body.encode(), HLS_TYPE)
                if path == "hls/live.m3u8":
                    step = server.hls_plan.pop(0) if server.hls_plan else "play"
                    if step == "404":
                        self.send_error(404, "Not Found")
                        return None
                    return self._send(server.live_playlist().encode(), HLS_TYPE)
                if path == "list.pls":
                    body = f"[playlist]\nFile1={server.url('missing.mp3')}\nFile2={server.url('tone.ogg')}\nNumberOfEntries=2\n"
                    return self._send(body.encode(), "audio/x-scpls")
                if path == "redirect":
                    self.send_response(302)
                    self.send_header("Location", "/tone.mp3")
                    self.end_headers()
                    return None
                if path.startswith("live."):
                    return self._live(folder / f"tone.{path.split('.', 1)[1]}", icy=True)
                if path.startswith("drop."):
                    step = server.drop_plan.pop(0) if server.drop_plan else "play"
                    if step == "404":
                        self.send_error(404, "Not Found")
                        return None
                    if step == "stall":  # half the file, then nothing, connection open
                        self._live(folder / f"tone.{path.split('.', 1)[1]}", icy=False, drop=True)
                        time.sleep(30)
                        return None
                    return self._live(folder / f"tone.{path.split('.', 1)[1]}", icy=False,
                                      drop=step == "drop")  # fmt: skip
                file = folder / path
                if path and file.is_file():
                    kind = {"mp3": "audio/mpeg", "ogg": "audio/ogg", "aac": "audio/aac",
                            "opus": "audio/ogg", "wav": "audio/wav", "ts": "video/mp2t",
                            "m3u8": HLS_TYPE}.get(file.suffix.lstrip("."), "application/octet-stream")  # fmt: skip
                    return self._send(file.read_bytes(), kind)
                self.send_error(404, "Not Found")
                return None

            def _send(self, body: bytes, kind: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _live(self, file: Path, *, icy: bool, drop: bool = False) -> None:
                """The file over and over, at about twice its bit rate, like a radio station."""
                data = file.read_bytes()
                wants_icy = icy and self.headers.get("Icy-MetaData") == "1"
                self.send_response(200)
                self.send_header("Content-Type", "audio/mpeg" if file.suffix == ".mp3" else "audio/ogg")
                self.send_header("icy-name", "Test Radio")
                if wants_icy:
                    self.send_header("icy-metaint", str(METAINT))
                self.end_headers()
                limit = server.drop_after or len(data) // 2
                sent = 0
                count = 0
                title = 0
                while True:
                    for start in range(0, len(data), METAINT):
                        piece = data[start : start + METAINT]
                        if drop and sent >= limit:
                            return
                        self.wfile.write(piece)
                        sent += len(piece)
                        if wants_icy:
                            if len(piece) < METAINT:
                                # Keep the interval exact: pad with the next round's start.
                                self.wfile.write(data[: METAINT - len(piece)])
                            count += 1
                            if count % 8 == 1:
                                text = f"StreamTitle='{server.titles[title % len(server.titles)]}';"
                                title += 1
                                block = text.encode()
                                block += b"\0" * (-len(block) % 16)
                                self.wfile.write(bytes([len(block) // 16]) + block)
                            else:
                                self.wfile.write(b"\0")
                        time.sleep(0.05)

        return Handler


@contextlib.contextmanager
def media_server(folder: Path, seconds: float = 4.0) -> Iterator[MediaServer]:
    with MediaServer(folder, seconds) as server:
        yield server
