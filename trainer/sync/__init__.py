"""Moving events between nodes: identities and signatures, the wire format, receiving."""
