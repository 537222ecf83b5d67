"""Home Assistant over MQTT: discovery, state out, commands in (issue 17)."""

from daemon.mqtt.bridge import MqttBridge

__all__ = ["MqttBridge"]
