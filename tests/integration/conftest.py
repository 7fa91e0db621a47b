"""The integration tests use the real servers from tests/servers.py
(registered in tests/conftest.py, so one set serves every folder)."""
