#!/usr/bin/env python3
"""mkman.py - a man page (roff) from a docs/*.md page.

    python3 docs/mkman.py docs/scrapewatch.8.md config/scrapewatch.conf > scrapewatch.8

The page is a small Markdown subset:

    % NAME SECTION DATE           first line: the .TH line
    # HEADING                     .SH
    ## Heading                    .SS
    blank-line separated text     paragraphs
    - item                        bullet list
    term                          .TP (a definition list, as in Pandoc)
    : definition, more lines
        indented (4 spaces)       literal block
    **bold**, `code` -> bold; *italic* -> italic
    | a | b | c |                 a table: each row a .TP, the first cell its term
    @CONFIG_REFERENCE@            every group and key of the shipped configuration,
                                  with its default and the comment above it
    @INCLUDE path@                a Markdown file of the tree (path from the
                                  tree's root), without its title, headings
                                  one level up (## -> #, ### -> ##)
"""
import os
import re
import sys


def escape(text):
    text = text.replace("\\", "\\e")
    text = text.replace("-", "\\-")
    return text


def inline(text):
    text = escape(text)
    text = re.sub(r"\*\*(.+?)\*\*", r"\\fB\1\\fR", text)
    text = re.sub(r"`(.+?)`", r"\\fB\1\\fR", text)
    text = re.sub(r"(?<![\w*])\*(\S.*?)\*(?![\w*])", r"\\fI\1\\fR", text)
    return text


def line_out(out, text):
    """A text line; one starting with . or ' would be a request."""
    if text.startswith((".", "'")):
        text = "\\&" + text
    out.append(text)


def config_reference(conf_path):
    """The configuration file's groups and keys as Markdown-subset lines."""
    lines = open(conf_path, encoding="utf-8").read().splitlines()
    md, comment, groups, header_done = [], [], [], False
    key_re = re.compile(r"^\s*#?\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?);\s*(#.*)?$")
    for raw in lines:
        text = raw.strip()
        key = key_re.match(raw)
        if text.startswith("#") and not (key and re.match(r"^\s*#[A-Za-z_]", raw)):
            comment.append(text.lstrip("#").strip())
            continue
        if not text:
            if not header_done:
                comment = []
            continue
        header_done = True
        opened = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*\{\s*$", text)
        if opened:
            groups.append(opened.group(1))
            md += ["", "## " + ".".join(groups), ""]
            if comment:
                md.append(" ".join(comment))
            comment = []
            continue
        if text.startswith("}"):
            if groups:
                groups.pop()
            comment = []
            continue
        if key:
            name = ".".join(groups + [key.group(1)])
            default = key.group(2)
            unset = raw.lstrip().startswith("#")
            term = "`%s` (example: %s)" % (name, default) if unset else "`%s = %s`" % (name, default)
            md += ["", term, ": " + (" ".join(comment) if comment else "(see the group above)")]
            comment = []
    return md


def included(path):
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    lines = open(os.path.join(root, path), encoding="utf-8").read().splitlines()
    out = []
    for line in lines:
        if line.startswith("# "):
            continue
        if line.startswith("#"):
            line = line[1:]
        out.append(line)
    return out


def table_row(out, line):
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    out.append(".TP")
    term = cells[0] + (" (%s)" % cells[1] if len(cells) > 2 else "")
    line_out(out, inline(term))
    line_out(out, inline(cells[-1]))


def convert(md_lines, conf_path):
    out = []
    title = md_lines[0]
    if not title.startswith("% "):
        sys.exit("mkman.py: the first line must be '% NAME SECTION DATE'")
    name, section, date = title[2:].split(" ", 2)
    out.append('.TH "%s" "%s" "%s" "scrapewatch" "scrapewatch manual"' % (name.upper(), section, date))
    body = []
    for line in md_lines[1:]:
        if line.strip() == "@CONFIG_REFERENCE@":
            body += config_reference(conf_path)
        elif line.startswith("@INCLUDE ") and line.rstrip().endswith("@"):
            body += included(line.strip()[len("@INCLUDE "):-1])
        else:
            body.append(line)
    i, para = 0, False
    while i < len(body):
        line = body[i]
        if not line.strip():
            para = False
            i += 1
            continue
        if line.startswith("## "):
            out.append('.SS "%s"' % inline(line[3:].strip()))
            para = False
        elif line.startswith("# "):
            out.append(".SH %s" % escape(line[2:].strip().upper()))
            para = False
        elif line.startswith("    "):
            out += [".PP", ".nf", ".RS 4"]
            while i < len(body) and (body[i].startswith("    ") or not body[i].strip()):
                if body[i].strip() or (i + 1 < len(body) and body[i + 1].startswith("    ")):
                    line_out(out, escape(body[i][4:]))
                i += 1
            out += [".RE", ".fi"]
            para = False
            continue
        elif line.startswith("|"):
            rows = []
            while i < len(body) and body[i].startswith("|"):
                rows.append(body[i])
                i += 1
            for row in rows[2:]:     # after the header and its rule
                table_row(out, row)
            para = False
            continue
        elif line.startswith("- "):
            out += [".IP \\(bu 2"]
            line_out(out, inline(line[2:].strip()))
            i += 1
            while i < len(body) and body[i].startswith("  ") and body[i].strip():
                line_out(out, inline(body[i].strip()))
                i += 1
            para = False
            continue
        elif i + 1 < len(body) and body[i + 1].startswith(": "):
            out += [".TP"]
            line_out(out, inline(line.strip()))
            line_out(out, inline(body[i + 1][2:].strip()))
            i += 2
            while i < len(body) and body[i].strip():
                line_out(out, inline(body[i].strip()))
                i += 1
            para = False
            continue
        else:
            if not para:
                out.append(".PP")
                para = True
            line_out(out, inline(line.strip()))
        i += 1
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: mkman.py PAGE.md CONFIG")
    md = open(sys.argv[1], encoding="utf-8").read().splitlines()
    sys.stdout.write(convert(md, sys.argv[2]))


if __name__ == "__main__":
    main()
