"""Prompt templates for tactful, shipped inside the wheel as ``tactful.prompts``.

The templates are plain text with ``$name`` placeholders (``string.Template``), so that
JSON braces in them need no escaping.
"""
