"""Checks that README.md's configuration table matches the server's --help.

Usage: python3 check_config_table.py README.md HELP_TEXT_FILE
Every option of --help must be a row of the table under "## Configuration",
with the same environment variable and default, and the table must name no
option that --help does not list.
"""
import re
import sys


def options_from_help(text):
    found = {}
    for block in re.split(r"\n(?=[ ]{1,8}(?:-\w, )?--)", text):
        m = re.match(r"\s*(?:-\w, )?(--[a-z-]+)", block)
        if not m:
            continue
        flat = " ".join(block.split())
        env = re.search(r"Env (ARANGOPIPE_[A-Z_]+)", flat)
        default = re.search(r"Default: (\S+?)\.?(?:\s|$)", flat)
        found[m.group(1)] = (env.group(1) if env else "", default.group(1) if default else "")
    return found


def options_from_readme(text):
    section = text.split("\n## Configuration", 1)[1].split("\n## ", 1)[0]
    found = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].startswith("`-"):
            continue
        flag = re.search(r"(--[a-z-]+)", cells[0]).group(1)
        default = cells[2].strip("`")
        found[flag] = (cells[1].strip("`"), "" if default == "none" else default)
    return found


def main(readme_path, help_path):
    helped = options_from_help(open(help_path, encoding="utf-8").read())
    documented = options_from_readme(open(readme_path, encoding="utf-8").read())
    problems = []
    for flag, (env, default) in helped.items():
        if flag not in documented:
            problems.append(f"{flag} is in --help but not in the README's table")
            continue
        denv, ddefault = documented[flag]
        if denv != env:
            problems.append(f"{flag}: --help says env {env or '(none)'}, the README {denv or '(none)'}")
        if default and ddefault != default:
            problems.append(f"{flag}: --help says default {default}, the README {ddefault or '(none)'}")
    problems += [f"{flag} is in the README's table but not in --help" for flag in documented if flag not in helped]
    if problems:
        print("FAIL: the README's configuration table and --help differ:", file=sys.stderr)
        for p in problems:
            print("      " + p, file=sys.stderr)
        return 1
    print(f"    ok  {len(helped)} options agree with --help (flag, environment variable, default)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
