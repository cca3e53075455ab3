"""The values tables of helm/arangopipe/README.md, made from the `## @section` and `## @param`
comments of values.yaml (bitnami's convention).

  values_table.py            print the tables
  values_table.py --update   rewrite them in the README, between the values:start/end markers
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import yaml

CHART = Path(__file__).resolve().parents[1] / "arangopipe"
VALUES = CHART / "values.yaml"
README = CHART / "README.md"
START, END = "<!-- values:start -->", "<!-- values:end -->"


def lookup(values: dict, path: str):
    node = values
    for part in path.split("."):
        node = node[part]
    return node


def default_text(value) -> str:
    text = json.dumps(value, separators=(", ", ": ")) if not isinstance(value, str) else json.dumps(value)
    return "`" + text.replace("|", "\\|") + "`"


def tables() -> str:
    text = VALUES.read_text()
    values = yaml.safe_load(text)
    out: list[str] = []
    for line in text.splitlines():
        section = re.match(r"^## @section (.+)$", line)
        param = re.match(r"^\s*## @param (\S+) (.+)$", line)
        if section:
            out += ["", f"### {section.group(1)}", "", "| name | description | default |", "|---|---|---|"]
        elif param:
            name, description = param.groups()
            description = description.replace("|", "\\|")
            out.append(f"| `{name}` | {description} | {default_text(lookup(values, name))} |")
    return "\n".join(out).strip() + "\n"


def updated_readme() -> str:
    readme = README.read_text()
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{tables()}{END}{tail}"


if __name__ == "__main__":
    if sys.argv[1:] == ["--update"]:
        README.write_text(updated_readme())
        print(f"wrote the values tables of {README}")
    else:
        sys.stdout.write(tables())
