"""Course packages: a course version published and signed by the hub, its files held by
SHA-256, fetched by boxes over sync or carried on a USB stick, and switched to at once."""
