"""Learning from a community's labels: which rule decides (``choose``), and the saved head."""
