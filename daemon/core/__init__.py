"""The leaf core: what every layer shares and that imports nothing else of daemon.

The appliance states, the clock seam, the typed events the appliance tells its
observers, the Live model profiles, secret redaction and safe text.
"""
