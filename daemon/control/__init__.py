"""The local control socket `speakerd ctl` talks to."""
