"""speakerd: the appliance daemon (config, state machine, Live session, wake word, tools)."""
