"""How fast `tactful check` splits documents, without any model: units per second.

    python benchmarks/segment_speed.py [REPEATS]

Builds a synthetic Markdown document mixing every construct the segmenter knows
(headings, nested lists, tables, fences, quotes, comments and ignore directives), then
segments it REPEATS times and prints lines, units and throughput.
"""

from __future__ import annotations

import sys
import time

from tactful.check.segment import segment_markdown, segment_text

SECTION = """\
## Section {n}

A paragraph about release {n}, with a [link](https://example.org/{n}) and `code`.
It goes on for a second line.

- item one of {n}
  - nested item with 🎉
- item two

| Name | Comment |
|------|---------|
| Ann  | fine    |

```python
print("code block {n}")
```

> A quoted line.

<!-- tactful: ignore -->
An ignored paragraph.

"""


def main(repeats: int) -> None:
    document = "".join(SECTION.format(n=n) for n in range(2000))
    lines = document.count("\n")
    for name, segment in (("markdown", segment_markdown), ("text", segment_text)):
        start = time.perf_counter()
        for _ in range(repeats):
            units = segment(document)
        seconds = (time.perf_counter() - start) / repeats
        print(f"{name:8} {lines} lines -> {len(units)} units in {seconds * 1000:.1f} ms "
              f"({lines / seconds:,.0f} lines/s)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
