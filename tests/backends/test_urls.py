"""`backends.urls`: the one parser of server URLs (--host, model.host(s), $OLLAMA_HOST)."""

from __future__ import annotations

import pytest
from tactful.backends.openai import base_url
from tactful.backends.urls import OLLAMA_PORT, BadURL, ollama_url, server_url, setting_url
from tactful.errors import UsageError


@pytest.mark.parametrize(
    ("raw", "url"),
    [
        # Ollama's rules for what is left out: no scheme, the backend's port; http 80; https 443.
        ("gpu", "http://gpu:11434"),
        ("gpu:8000", "http://gpu:8000"),
        ("http://gpu", "http://gpu:80"),
        ("https://gpu", "https://gpu:443"),
        ("0.0.0.0", "http://0.0.0.0:11434"),
        # Written out in full, lowercase, no trailing slash; a path is kept.
        ("HTTP://GPU.Example.com:8000/", "http://gpu.example.com:8000"),
        ("https://gpu:8000/v1/", "https://gpu:8000/v1"),
        ("http://h_1:2/a/b", "http://h_1:2/a/b"),
        ("[::1]:5", "http://[::1]:5"),
        ("http://[2001:db8::1]", "http://[2001:db8::1]:80"),
        # A pasted URL's surrounding whitespace is stripped, not refused.
        ("http://127.0.0.1:11500 ", "http://127.0.0.1:11500"),
        ("\thttp://127.0.0.1:11500\n", "http://127.0.0.1:11500"),
        ("http://h:1", "http://h:1"),
        ("http://h:65535", "http://h:65535"),
    ],
)
def test_a_url_is_written_out_in_full(raw: str, url: str) -> None:
    assert server_url(raw, OLLAMA_PORT) == url
    assert server_url(url, OLLAMA_PORT) == url  # its own form parses to itself


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("htp://127.0.0.1:11434", "the scheme must be http or https, not 'htp'"),
        ("ftp://h:1", "the scheme must be http or https, not 'ftp'"),
        ("http:/127.0.0.1:11434", "'http' is a scheme, not a host: write http://HOST:PORT"),
        ("http//h:1", "'http' is a scheme, not a host"),
        ("http://127.0.0.1:99999", "the port must be a number from 1 to 65535, not '99999'"),
        ("http://h:0", "the port must be a number from 1 to 65535, not '0'"),
        ("http://h:", "the port must be a number from 1 to 65535, not ''"),
        ("http://h:80x", "not '80x'"),
        ("http://h:-1", "not '-1'"),
        ("http://h:１２", "not '１２'"),  # digits, but not ASCII ones
        ("http://:11434", "it names no host"),
        (":11434", "it names no host"),
        ("http://", "it names no host"),
        ("", "it is empty"),
        ("   ", "it is empty"),
        ("http://a b:1", "it contains whitespace"),
        ("http://-gpu:1", "'-gpu' is not a host name"),
        ("http://gpu%:1", "'gpu%' is not a host name"),
        ("http://[::1:5", "closing ']'"),
        ("http://[nope]:5", "'[nope]' is not an IPv6 address"),
        ("http://[::1]5", "'5' after the address"),
        ("http://h:1/?a=b", "no query or fragment"),
        ("http://h:1/#top", "no query or fragment"),
        ("http://user:secret@h:1", "credentials do not belong in the URL"),
    ],
)
def test_a_bad_url_says_what_is_wrong(raw: str, reason: str) -> None:
    with pytest.raises(BadURL) as caught:
        server_url(raw)
    assert reason in str(caught.value)


def test_a_setting_names_where_the_bad_value_came_from() -> None:
    with pytest.raises(UsageError) as caught:
        setting_url("htp://x:1\x1b[2J", "--host")
    # repr: a control character in the value is shown escaped, never sent to the terminal.
    assert caught.value.message == "--host 'htp://x:1\\x1b[2J' is not a server URL: the scheme must be http or https, not 'htp'"
    assert caught.value.exit_code == 2


def test_ollama_takes_the_argument_then_its_environment_then_its_default(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ollama_url(None) == "http://127.0.0.1:11434"
    monkeypatch.setenv("OLLAMA_HOST", "gpu-box")
    assert ollama_url(None) == "http://gpu-box:11434"
    assert ollama_url("other:1") == "http://other:1"
    monkeypatch.setenv("OLLAMA_HOST", "htp://gpu-box")
    with pytest.raises(UsageError, match=r"^\$OLLAMA_HOST 'htp://gpu-box' is not a server URL: the scheme"):
        ollama_url(None)


def test_the_openai_api_root_is_the_parsed_url_with_v1_unless_a_path_is_given() -> None:
    assert base_url("http://h:8000") == "http://h:8000/v1"
    assert base_url("h:8000/") == "http://h:8000/v1"
    assert base_url("https://h/api/v2/") == "https://h:443/api/v2"
    with pytest.raises(UsageError, match="not a server URL: the port"):
        base_url("http://h:99999/v1")
