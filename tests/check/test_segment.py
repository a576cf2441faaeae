"""Segmentation of Markdown and plain text: which units, and exactly where they start."""

from __future__ import annotations

import pytest
from tactful.check.segment import segment_markdown, segment_text
from tactful.errors import DirectiveError


def where(units) -> list[tuple[int, int, str, str]]:  # type: ignore[no-untyped-def]
    return [(u.line, u.col, u.kind, u.text) for u in units]


TRICKY = """\
---
title: "front matter: idiot"
tags: [a, b]
---
# Contributing guide #

Thanks for helping.
Please read the [rules](rules.md) first.

- first item
  - nested item
    - deeper item
      continued lazily
- back out

1. ordered one
10) ordered two
- [ ] a task
- [x] done task

```python
print("code with a backtick fence")
```

~~~
tilde fence, no language
~~~

````md
```
a fence inside a longer fence
```
````

    indented code block

| Name | Comment |
|:-----|--------:|
| Ann  | fine \\| ok |
|      | empty first cell |

[![build](https://ci/badge.svg)](https://ci) [Docs](https://docs)
[ref]: https://example.org

<!-- an ordinary comment
that spans lines -->
Closing words
===
"""


def test_tricky_markdown_units_and_positions():
    assert where(segment_markdown(TRICKY)) == [
        (5, 3, "heading", "Contributing guide"),
        (7, 1, "paragraph", "Thanks for helping.\nPlease read the [rules](rules.md) first."),
        (10, 3, "list-item", "first item"),
        (11, 5, "list-item", "nested item"),
        (12, 7, "list-item", "deeper item\ncontinued lazily"),
        (14, 3, "list-item", "back out"),
        (16, 4, "list-item", "ordered one"),
        (17, 5, "list-item", "ordered two"),
        (18, 7, "list-item", "a task"),
        (19, 7, "list-item", "done task"),
        (37, 3, "table-cell", "Name"),
        (37, 10, "table-cell", "Comment"),
        (39, 3, "table-cell", "Ann"),
        (39, 10, "table-cell", "fine \\| ok"),
        (40, 10, "table-cell", "empty first cell"),
        (47, 1, "heading", "Closing words"),
    ]


def test_crlf_and_bom_give_the_same_positions_as_lf():
    lf = segment_markdown(TRICKY)
    assert where(segment_markdown("\ufeff" + TRICKY.replace("\n", "\r\n"))) == where(lf)
    assert where(segment_markdown(TRICKY.replace("\n", "\r"))) == where(lf)


def test_columns_count_characters_not_bytes_or_cells():
    doc = "| 👍🏽 emoji | 日本語 | x |\n|---|---|---|\n\n> 💬 *quoted* text\n\n- 漢字 then 🎉 item\n"
    assert where(segment_markdown(doc)) == [
        (1, 3, "table-cell", "👍🏽 emoji"),  # the thumbs-up with skin tone is two code points
        (1, 14, "table-cell", "日本語"),
        (1, 20, "table-cell", "x"),
        (4, 3, "paragraph", "💬 *quoted* text"),
        (6, 3, "list-item", "漢字 then 🎉 item"),
    ]


def test_fence_without_closing_runs_to_the_end_and_front_matter_needs_closing():
    assert where(segment_markdown("text\n\n```\nnever closed\n\nstill code\n")) == [(1, 1, "paragraph", "text")]
    # An unclosed --- at the top is a thematic break, and what follows is prose.
    assert where(segment_markdown("---\nnot front matter\n")) == [(2, 1, "paragraph", "not front matter")]
    assert where(segment_markdown("+++\ntitle = 'x'\n+++\nbody\n")) == [(4, 1, "paragraph", "body")]


def test_indented_code_inside_a_list_and_paragraph_inside_an_item():
    doc = "- item\n\n  second paragraph of the item\n\n      code in the item\n\nafter\n"
    assert where(segment_markdown(doc)) == [
        (1, 3, "list-item", "item"),
        (3, 3, "paragraph", "second paragraph of the item"),
        (7, 1, "paragraph", "after"),
    ]


def test_link_only_line_is_dropped_from_a_paragraph_but_the_rest_stays():
    doc = "[Home](/) | [API](/api)\nreal words here\nhttps://example.org/path\n"
    assert where(segment_markdown(doc)) == [(2, 1, "paragraph", "real words here")]


# ---------------------------------------------------------------- ignores


def test_ignore_skips_the_next_block_only():
    doc = "<!-- tactful: ignore -->\nskipped one\nskipped two\n\nkept\n"
    assert where(segment_markdown(doc)) == [(5, 1, "paragraph", "kept")]


def test_ignore_before_a_table_skips_the_whole_table():
    doc = "<!-- tactful: ignore -->\n| a | b |\n|---|---|\n| c | d |\n\n| e |\n|---|\n"
    assert where(segment_markdown(doc)) == [(6, 3, "table-cell", "e")]


def test_ignore_line_trailing_skips_its_own_line():
    doc = "first line <!-- tactful: ignore-line -->\nsecond line\n"
    assert where(segment_markdown(doc)) == [(2, 1, "paragraph", "second line")]


def test_ignore_line_alone_skips_the_line_after_it():
    doc = "<!-- tactful: ignore-line -->\n- skipped item\n- kept item\n"
    assert where(segment_markdown(doc)) == [(3, 3, "list-item", "kept item")]


def test_off_on_region():
    doc = "before\n\n<!-- tactful: off -->\n# hidden\n\nhidden too\n<!-- tactful: on -->\n\nafter\n"
    assert where(segment_markdown(doc)) == [(1, 1, "paragraph", "before"), (9, 1, "paragraph", "after")]


def test_off_without_on_runs_to_the_end():
    assert where(segment_markdown("kept\n\n<!-- tactful: off -->\n\ngone\n")) == [(1, 1, "paragraph", "kept")]


def test_per_category_forms_keep_the_unit_and_name_the_categories():
    doc = (
        "<!-- tactful: ignore spam, toxicity -->\nblock\n\n"
        "line <!-- tactful: ignore-line spam -->\n\n"
        "<!-- tactful: off profanity -->\nregion\n<!-- tactful: on -->\n\nplain\n"
    )
    units = segment_markdown(doc)
    assert [(u.line, u.text, sorted(u.ignored)) for u in units] == [
        (2, "block", ["spam", "toxicity"]),
        (4, "line", ["spam"]),
        (7, "region", ["profanity"]),
        (10, "plain", []),
    ]


def test_directives_in_code_are_examples_not_directives():
    doc = "```md\n<!-- tactful: ignore -->\n<!-- tactful: bogus -->\n```\nkept\n"
    assert where(segment_markdown(doc)) == [(5, 1, "paragraph", "kept")]


def test_plain_text_paragraphs_and_hash_directives():
    doc = (
        "\ufeffFirst paragraph\r\nsecond line\r\n\r\n"
        "# tactful: ignore\nskipped paragraph\n\n"
        "  indented 🎉 kept  # tactful: ignore-line spam\n\n"
        "# tactful: ignore-line\ndropped\nkept after\n\n"
        "# tactful: off\nhidden\n# tactful: on\nvisible\n"
    )
    assert [(u.line, u.col, u.text, sorted(u.ignored)) for u in segment_text(doc)] == [
        (1, 1, "First paragraph\nsecond line", []),
        (7, 3, "indented 🎉 kept", ["spam"]),
        (11, 1, "kept after", []),
        (16, 1, "visible", []),
    ]


@pytest.mark.parametrize(
    ("doc", "message", "col"),
    [
        ("text\n<!-- tactful: ignroe -->\n", "unknown tactful directive 'ignroe' (did you mean 'ignore'?)", 1),
        ("  x <!-- tactful: ignore Spam -->\n", "'Spam' is not a category slug", 5),
        ("<!-- tactful: on spam -->\n", "'tactful: on' takes no categories", 1),
        ("<!-- tactful: ignore spma -->\n", "unknown category 'spma' in tactful directive (did you mean 'spam'?)", 1),
    ],
)
def test_bad_directives_name_their_line_and_column(doc: str, message: str, col: int):
    with pytest.raises(DirectiveError) as caught:
        segment_markdown(doc, known={"spam", "toxicity"})
    assert message in caught.value.message
    assert (caught.value.line, caught.value.col) == (doc.count("\n", 0, doc.index("<!--")) + 1, col)


def test_a_pipe_line_over_a_setext_underline_is_not_a_table():
    doc = "Pros | cons\n---\n\n| one | two |\n|-----|-----|\n| a | b |\n"
    assert where(segment_markdown(doc)) == [
        (1, 1, "heading", "Pros | cons"),
        (4, 3, "table-cell", "one"), (4, 9, "table-cell", "two"),
        (6, 3, "table-cell", "a"), (6, 7, "table-cell", "b"),
    ]


def test_directive_in_inline_code_is_documentation_not_a_directive():
    doc = "Write `<!-- tactful: ignore -->` before a block.\n\n| `<!-- tactful: off -->` | region |\n|---|---|\n\nkept\n"
    assert where(segment_markdown(doc)) == [
        (1, 1, "paragraph", "Write `<!-- tactful: ignore -->` before a block."),
        (3, 3, "table-cell", "`<!-- tactful: off -->`"),
        (3, 29, "table-cell", "region"),
        (6, 1, "paragraph", "kept"),
    ]
