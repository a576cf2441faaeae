"""tactful: personal harmful-content detection with local LLMs."""

__version__ = "0.1.0"
