"""xAPI: events as statements, exported as NDJSON or forwarded to a Learning Record Store."""
