"""Music and internet radio: a player that decodes in ffmpeg and plays under the voice.

player.py plays one item at a time into the speaker's background channel;
http_stream.py fetches streams (redirects, ICY titles), playlists.py reads
.m3u/.m3u8/.pls, sources.py follows a URL to its stream (HLS goes to ffmpeg by
its URL), decoder.py runs ffmpeg, library.py indexes a music folder.
"""

from daemon.media.library import Library, Track
from daemon.media.player import Item, Player

__all__ = ["Item", "Library", "Player", "Track"]
