"""What a status LED can show: the effects and colours, with no GPIO library behind them.

The config schema and the LED driver both read these, so an effect or colour
form is defined once.
"""

from __future__ import annotations

from typing import Literal, get_args

Color = tuple[float, float, float]
Effect = Literal["off", "on", "blink", "pulse"]
EFFECTS: tuple[str, ...] = get_args(Effect)
WHITE: Color = (1.0, 1.0, 1.0)
BLACK: Color = (0.0, 0.0, 0.0)


def rgb_from_hex(text: str) -> Color:
    """'#ff8000' -> (1.0, 0.5019..., 0.0), the form StatusLed.show takes."""
    digits = text.removeprefix("#")
    if len(digits) != 6:
        raise ValueError(f"colour {text!r} is not #rrggbb")
    return tuple(int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]
