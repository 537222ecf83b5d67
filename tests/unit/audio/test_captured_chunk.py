"""Chunks handed over together keep what the detectors should hear of each."""

from hardware.audio.captured_chunk import CapturedChunk, detector_audio, join


def test_joined_chunks_keep_both_versions_in_order():
    first = CapturedChunk.pair(b"s1", b"d1")
    plain = b"p2"  # the canceller was bypassed for this one: both hear the same
    third = CapturedChunk.pair(b"s3", b"d3")
    joined = join([first, plain, third])
    assert joined == b"s1p2s3"
    assert detector_audio(joined) == b"d1p2d3"


def test_plain_chunks_stay_plain():
    assert join([b"a", b"b"]) == b"ab"
    assert detector_audio(join([b"a", b"b"])) == b"ab"
    only = CapturedChunk.pair(b"s", b"d")
    assert join([only]) is only
