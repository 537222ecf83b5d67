"""GPIO drivers over gpiozero: status LED, talk button, relays.

Every class takes an optional ``pin_factory`` (gpiozero's seam), so the same
code drives lgpio on a Pi and ``MockFactory`` pins in tests and demos.
"""
