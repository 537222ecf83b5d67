"""scripts/abuse: the fuzzing and abuse campaign of issue 12 (see campaign.py)."""
