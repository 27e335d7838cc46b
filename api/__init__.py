"""HTTP API and web page of 法治文库 (fazhi-kb): see api.app.create_app."""
