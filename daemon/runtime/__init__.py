"""The one composition root: builds the devices and parts from the config and wires them."""
