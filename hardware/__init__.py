"""Thin drivers over the real device libraries; knows nothing of Gemini or the daemon."""
