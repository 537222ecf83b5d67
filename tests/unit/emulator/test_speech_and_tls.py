"""Reply voice (espeak-ng or tone) and the throw-away TLS material."""

from __future__ import annotations

import ipaddress
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from cryptography import x509

from daemon.emulator import LiveEmulator, NotLoopbackError
from daemon.emulator.speech import OUTPUT_RATE, synthesize, tone_for
from daemon.emulator.tls import mint_certificates
from hardware.audio.wav import pcm_from_wav_bytes

from .helpers import connect, model_audio, receive_turn


async def test_espeak_voice_is_24khz_speech_of_plausible_length() -> None:
    assert shutil.which("espeak-ng"), "espeak-ng is a required apt package"
    pcm = await synthesize("Okay, the lamp is on.", "espeak")
    seconds = len(pcm) / 2 / OUTPUT_RATE
    assert 0.8 < seconds < 4.0
    samples = np.frombuffer(pcm, dtype="<i2")
    assert np.abs(samples).max() > 3000  # audible
    assert pcm != tone_for("Okay, the lamp is on.")


def test_streamed_wav_without_sizes_is_read() -> None:
    wav = subprocess.run(["espeak-ng", "--stdout", "hello"], capture_output=True,
                         check=True).stdout
    pcm, rate = pcm_from_wav_bytes(wav)
    assert rate == 22050
    assert len(pcm) == len(wav) - 44


async def test_sdk_receives_espeak_speech_by_default() -> None:
    async with LiveEmulator(speech_pace=0) as emu, connect(emu) as session:
        await session.send_realtime_input(text="hello")
        audio = model_audio(await receive_turn(session))
    assert audio == await synthesize("Hello! How can I help?", "espeak")


def test_certificate_covers_exactly_the_loopback_names(tmp_path: Path) -> None:
    files = mint_certificates(tmp_path / "keys", tmp_path / "out" / "ca.pem")
    assert files.ca_cert == tmp_path / "out" / "ca.pem"
    cert = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert names.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")]
    assert files.server_key.stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.com"])
def test_non_loopback_hosts_are_refused(host: str) -> None:
    with pytest.raises(NotLoopbackError, match="only binds loopback"):
        LiveEmulator(host=host)


async def test_ipv6_loopback_and_ca_out(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    async with LiveEmulator(host="::1", speech="tone", ca_out=ca) as emu:
        assert emu.url == f"https://[::1]:{emu.port}"
        assert emu.ca_file == ca and ca.exists()
        async with connect(emu) as session:
            assert session.setup_complete is not None
