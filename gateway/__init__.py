"""The hiremesh gateway: REST and WebSockets for browsers, the web UI, auth, and the OpenAPI document."""
