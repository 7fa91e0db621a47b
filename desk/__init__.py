"""The web service on port 8080: the secure payment pages now, the agent
and supervisor desk as it grows.  Server-rendered pages that work
without JavaScript; handlers translate, billing/ decides."""
