"""scripts/bench: timings and costs of the running daemon over real-time simulated devices.

Everything runs against the real parts: `serve()` in a subprocess (bench.runner),
PyAudio over a private PulseAudio server (daemon.sim.pulse), the Live API
emulator on loopback TLS, openWakeWord on espeak-ng speech. Clocks are
time.monotonic() everywhere, which is system-wide on Linux, so times taken in
the daemon process and in the emulator (a thread of the bench process) compare.
"""
