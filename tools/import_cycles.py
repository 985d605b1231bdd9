#!/usr/bin/env python3
"""Find import cycles between the crate's modules.  Plain Python 3.8+, no dependencies.

Nodes: module paths cut to --depth segments.  Depth 1 = the entries directly under src/ (`db`,
`web`, `stripe_api`); depth 2 adds their children (`billing::provider`, `web::pages`); depth 3
reaches `web::province::admin_api`.  A file counts for its own module path cut to the depth
(src/web/province/staff_pages/team.rs is `web::province` at depth 2).  lib.rs and main.rs are
the crate roots, not nodes (main.rs uses `portal::`, which is not looked at).

Edge A -> B: a mention in a file of A of a path starting with `crate::`, `$crate::` or `super::`
that resolves into B -- in `use` lines (grouped forms like `use crate::{db::{self, Db}, x}`
included) or inline in code, types and attributes.  `super::` is resolved from the module the
mention is in, inline `mod x { }` blocks included.  A path maps to its longest prefix that is a
module file under src/ (`crate::billing::Money` is `billing`; re-exports are not followed).
Mentions of A itself or of modules under A are not edges; `self::` and bare child paths never
leave A.  Comments (doc comments too) and string/char literals are skipped.  Test code is
skipped when marked at module level -- `#[cfg(test)] mod x { }`, `#[cfg(test)] mod x;` (the
file and its children) and `#[cfg(test)] use ..;` -- but other `#[cfg(test)]` items (a fn, a
const) count.  --include-tests counts everything.

Prints each strongly connected component of more than one node, the two-way pairs in it, and
each edge inside it with its first --locations `file:line` places.  Exit status 1 if any cycle.

    python3 tools/import_cycles.py [--depth 2] [--json] [--src DIR] [--include-tests]
"""
import argparse
import json
import re
import sys
from pathlib import Path

TOKEN = re.compile(r"""
    (?P<ws>\s+) | (?P<comment>//[^\n]*) | (?P<block>/\*) | (?P<raw>b?r(?P<hashes>\#*)")
  | (?P<str>b?"(?:\\.|[^"\\])*") | (?P<char>b?'(?:\\(?:u\{[0-9a-fA-F]*\}|x..|.)|[^\\'\n])')
  | (?P<ident>\$?(?:r\#)?[A-Za-z_][A-Za-z0-9_]*) | (?P<punct>::|.)
""", re.X | re.S)


def tokens(text):
    """[(kind, value, line)] for identifiers and punctuation; comments and literals dropped."""
    out, pos, line = [], 0, 1
    while pos < len(text):
        m = TOKEN.match(text, pos)
        kind, end = m.lastgroup, m.end()
        if kind == "block":                       # block comments nest in Rust
            depth = 1
            while depth and end < len(text):
                two = text[end:end + 2]
                depth += (two == "/*") - (two == "*/")
                end += 2 if two in ("/*", "*/") else 1
        elif kind == "raw":                       # r"..", r#".."#, br#".."#
            found = text.find('"' + m.group("hashes"), end)
            end = len(text) if found < 0 else found + 1 + len(m.group("hashes"))
        elif kind in ("ident", "punct"):
            out.append((kind, m.group(), line))
        line += text.count("\n", pos, end)
        pos = end
    return out


def closing(toks, j):
    """Index just past the bracket group that opens at toks[j]."""
    level = 0
    for k in range(j, len(toks)):
        level += (toks[k][1] in ("(", "[", "{")) - (toks[k][1] in (")", "]", "}"))
        if level == 0:
            return k + 1
    return len(toks)


def use_tree(toks, i, prefix, out):
    """Parse the path (with `{..}` groups) at toks[i], append (segments, line) to out."""
    segs = list(prefix)
    while i < len(toks):
        kind, val, line = toks[i]
        if kind == "ident":
            segs.append(val.replace("r#", ""))
            if i + 1 < len(toks) and toks[i + 1][1] == "::":
                i += 2
                continue
            out.append((segs, line))
            return i + 1
        if val != "{":
            break                                 # `*`, `<T>`, ...
        end, i = closing(toks, i), i + 1
        while i < end - 1:
            if toks[i][1] in (",", "as", "*") or toks[i - 1][1] == "as":
                i += 1
            else:
                i = max(use_tree(toks, i, segs, out), i + 1)
        return end
    out.append((segs, toks[min(i, len(toks) - 1)][2]))
    return i


def scan(here_file, text, include_tests):
    """([(absolute module path mentioned, line)], [modules declared `#[cfg(test)] mod x;`])."""
    toks, refs, test_children = tokens(text), [], []
    stack, depth, i = [], 0, 0                    # stack: open inline mods (name, depth, test)
    while i < len(toks):
        kind, val, line = toks[i]
        here = here_file + [name for name, _, _ in stack]
        test = False
        if val == "#" and i + 1 < len(toks) and toks[i + 1][1] == "[" and not include_tests:
            j = closing(toks, i + 1)
            words = [t[1] for t in toks[i + 2:j - 1]]
            if words[:1] == ["cfg"] and "test" in words and "not" not in words:
                while j < len(toks) and toks[j][1] in ("#", "[", "pub", "("):
                    j = closing(toks, j) if toks[j][1] in ("[", "(") else j + 1
                if j < len(toks) and toks[j][1] == "use":     # test-only import
                    while j < len(toks) and toks[j][1] != ";":
                        j += 1
                    i = j
                    continue
                if j + 2 < len(toks) and toks[j][1] == "mod":
                    i, val, test = j, "mod", True
        if val == "mod" and i + 2 < len(toks) and toks[i + 2][1] in ("{", ";"):
            if toks[i + 2][1] == "{":
                stack.append((toks[i + 1][1], depth, test))
                depth += 1
            elif test:
                test_children.append(tuple(here + [toks[i + 1][1]]))
            i += 3
            continue
        if val in ("{", "}"):
            depth += 1 if val == "{" else -1
            if stack and stack[-1][1] == depth:
                stack.pop()
        if (val in ("crate", "$crate", "super") and i + 1 < len(toks)
                and toks[i + 1][1] == "::" and not (i and toks[i - 1][1] == "::")):
            found = []
            i = use_tree(toks, i, [], found)
            if any(t for _, _, t in stack):
                continue
            for segs, ln in found:
                base, k = ([], 1) if segs[0] != "super" else (list(here), 0)
                while k < len(segs) and segs[k] in ("super", "self"):
                    base, k = (base[:-1] if segs[k] == "super" else base), k + 1
                refs.append((base + segs[k:], ln))
            continue
        i += 1
    return refs, test_children


def components(graph):
    """Strongly connected components of {node: set(nodes)}: nodes reachable both ways."""
    reach = {}
    for start in graph:
        seen, todo = {start}, [start]
        while todo:
            for w in graph.get(todo.pop(), ()):
                if w not in seen:
                    seen.add(w)
                    todo.append(w)
        reach[start] = seen
    return {tuple(sorted(w for w in reach[v] if v in reach.get(w, ()))) for v in graph}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--depth", type=int, default=1, help="module path segments per node (1)")
    ap.add_argument("--src", type=Path, default=Path(__file__).resolve().parent.parent / "src")
    ap.add_argument("--json", action="store_true", help="print the cycles as JSON")
    ap.add_argument("--locations", type=int, default=3, help="file:line places per edge (3)")
    ap.add_argument("--include-tests", action="store_true", help="count #[cfg(test)] code too")
    args = ap.parse_args()
    if args.depth < 1:
        ap.error("--depth must be at least 1")

    mods = {}                                     # module path -> file
    for path in sorted(args.src.rglob("*.rs")):
        parts = path.relative_to(args.src).with_suffix("").parts
        if parts not in (("lib",), ("main",)):
            mods[parts[:-1] if parts[-1] == "mod" else parts] = path
    scanned, test_only = {}, set()
    for key, path in mods.items():
        scanned[key], tests = scan(list(key), path.read_text(encoding="utf-8"), args.include_tests)
        test_only.update(tests)

    edges = {}                                    # (from, to) -> [file:line, ...]
    for key, refs in scanned.items():
        if any(key[:n] in test_only for n in range(1, len(key) + 1)):
            continue                              # file of a `#[cfg(test)] mod x;`
        src = "::".join(key[:args.depth])
        for segs, line in refs:
            n = max((n for n in range(1, len(segs) + 1) if tuple(segs[:n]) in mods), default=0)
            dst = "::".join(segs[:min(n, args.depth)])
            if n == 0 or dst == src or dst.startswith(src + "::"):
                continue                          # crate root, unknown, itself or its child
            where = f"{mods[key].relative_to(args.src.parent).as_posix()}:{line}"
            if where not in edges.setdefault((src, dst), []):
                edges[(src, dst)].append(where)

    graph = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
    cycles = []
    for comp in sorted(c for c in components(graph) if len(c) > 1):
        inside = [{"from": a, "to": b, "count": len(w), "locations": w[:args.locations]}
                  for (a, b), w in sorted(edges.items()) if a in comp and b in comp]
        pairs = [[a, b] for a, b in sorted(edges) if a < b and (b, a) in edges and a in comp]
        cycles.append({"modules": list(comp), "two_way": pairs, "edges": inside})

    if args.json:
        print(json.dumps({"depth": args.depth, "cycles": cycles}, indent=2))
    elif not cycles:
        print(f"no import cycles at depth {args.depth}")
    else:
        print(f"{len(cycles)} import cycle(s) at depth {args.depth}:")
    for n, cyc in enumerate([] if args.json else cycles, 1):
        print(f"\n{n}. {', '.join(cyc['modules'])}")
        if len(cyc["modules"]) > 2:
            print("   two-way: " + (", ".join(f"{a} <-> {b}" for a, b in cyc["two_way"])
                                     or "none (the cycle is longer)"))
        for e in cyc["edges"]:
            more = e["count"] - len(e["locations"])
            print(f"   {e['from']} -> {e['to']}" + (f"  (+{more} more)" if more > 0 else ""))
            for where in e["locations"]:
                print(f"       {where}")
    return 1 if cycles else 0


if __name__ == "__main__":
    sys.exit(main())
