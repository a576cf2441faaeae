"""What tests share: a scripted backend for the engine, example banks, real-model marks.

A test module imports helpers from here (or from ``tests.fake_ollama`` and
``tests.llama_server``, the stand-in servers), never from another test module, so that
moving or deleting a test never breaks an unrelated one.

It lives under ``tests/`` rather than in ``tactful.testing``: nothing here is promised to
plugin authors yet (tactful has no plugin interface), and a shipped module would make its
names public API. Backends outside tactful can copy ``scripted.py``; it depends only on
the public protocols of ``tactful.backends.base``.
"""
