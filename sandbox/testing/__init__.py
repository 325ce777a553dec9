"""What tests hold: the pytest plugin, the handle on a running sandbox and ``sandbox.run()``."""
