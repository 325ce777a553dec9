"""The aiohttp side: the application and its routes, the push exchange on the wire, fault
effects on the wire, the control plane, the access log and the server. Translates only."""
