"""The appliance: one state machine, the conversation, and what observes them."""
