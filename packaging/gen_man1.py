#!/usr/bin/env python3
"""Writes man1 pages for the alphacore command and each subcommand from the argument parser's
own description (`alphacore --experimental-dump-help`, swift-argument-parser's ToolInfo JSON),
so that the pages cannot drift from the options the command accepts.

    gen_man1.py <path to the alphacore binary> <output directory> <version>

One page per command: alphacore.1, alphacore-doctor.1, alphacore-hist.1, ... (nested commands
join their names with '-'). swift-argument-parser's own generate-manual plugin would do the same,
but it needs a second build of the parser's tool target; this reads what the built command says.
"""
import datetime
import json
import os
import subprocess
import sys


def esc(text):
    """roff-escapes text: backslashes, and a leading '.' or "'" that would start a request."""
    text = (text or "").replace("\\", "\\e").replace("-", "\\-")
    lines = []
    for line in text.split("\n"):
        if line.startswith(".") or line.startswith("'"):
            line = "\\&" + line
        lines.append(line)
    return "\n".join(lines)


def paragraphs(text):
    out = []
    for para in (text or "").strip().split("\n\n"):
        para = para.strip()
        if para:
            out.append(".PP\n" + esc(para))
    return out


def arg_names(arg):
    names = []
    for n in arg.get("names") or []:
        dash = "-" if n["kind"] == "short" else "--" if n["kind"] == "long" else "-"
        names.append(dash + n["name"])
    return names


def arg_synopsis(arg):
    value = arg.get("valueName") or "value"
    if arg["kind"] == "positional":
        s = "<" + value + ">"
    else:
        pref = arg.get("preferredName") or (arg.get("names") or [{}])[0]
        dash = "-" if pref.get("kind") == "short" else "--"
        s = "\\fB" + esc(dash + pref.get("name", "")) + "\\fR"
        if arg["kind"] == "option":
            s += " <" + esc(value) + ">"
    if arg.get("isRepeating"):
        s += " ..."
    return "[" + s + "]" if arg.get("isOptional") else s


def page(cmd, path, version):
    name = "-".join(path)
    date = datetime.datetime.fromtimestamp(
        int(os.environ.get("SOURCE_DATE_EPOCH", "0")) or 1767225600, datetime.timezone.utc).strftime("%Y-%m-%d")
    args = [a for a in cmd.get("arguments") or [] if a.get("shouldDisplay", True)]
    # The parser's own `help` subcommand is not a page of ours.
    subs = [s for s in cmd.get("subcommands") or [] if s.get("shouldDisplay", True) and s["commandName"] != "help"]
    lines = ['.TH "%s" 1 "%s" "alphacore %s" "alphacore manual"' % (name.upper(), date, version),
             ".SH NAME", "%s \\- %s" % (esc(name), esc(cmd.get("abstract") or "")),
             ".SH SYNOPSIS", "\\fB%s\\fR" % esc(" ".join(path))]
    if subs:
        lines[-1] += " <subcommand>"
    for a in args:
        lines.append(arg_synopsis(a))
    lines.append(".SH DESCRIPTION")
    lines += paragraphs(cmd.get("abstract")) + paragraphs(cmd.get("discussion"))
    if args:
        lines.append(".SH OPTIONS")
        for a in args:
            label = ", ".join(arg_names(a)) or "<" + (a.get("valueName") or "value") + ">"
            if a["kind"] == "option":
                label += " <" + (a.get("valueName") or "value") + ">"
            lines += [".TP", "\\fB%s\\fR" % esc(label), esc(a.get("abstract") or "")]
            if a.get("discussion"):
                lines.append(".IP\n" + esc(a["discussion"]) if isinstance(a["discussion"], str) else "")
            if a.get("defaultValue"):
                lines.append(".IP\n(default: %s)" % esc(a["defaultValue"]))
            values = a.get("allValues") or a.get("allValueStrings")
            if values:
                lines.append(".IP\nvalues: %s" % esc(", ".join(values)))
    if subs:
        lines.append(".SH SUBCOMMANDS")
        for s in subs:
            lines += [".TP", "\\fB%s\\fR" % esc(s["commandName"]), esc(s.get("abstract") or ""),
                      ".IP", "See \\fB%s\\fR(1)." % esc("-".join(path + [s["commandName"]]))]
    lines.append(".SH SEE ALSO")
    see = ["\\fB%s\\fR(1)" % esc("-".join(path + [s["commandName"]])) for s in subs]
    if len(path) > 1:
        see.insert(0, "\\fB%s\\fR(1)" % esc("-".join(path[:-1])))
    see.append("\\fBalphacore_strerror\\fR(3)")
    lines.append(", ".join(see))
    pages = {name + ".1": "\n".join(l for l in lines if l != "") + "\n"}
    for s in subs:
        pages.update(page(s, path + [s["commandName"]], version))
    return pages


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: gen_man1.py <alphacore binary> <output dir> <version>")
    binary, outdir, version = sys.argv[1:]
    dump = subprocess.run([binary, "--experimental-dump-help"], capture_output=True, text=True)
    if dump.returncode != 0:
        sys.exit("gen_man1.py: %s --experimental-dump-help failed: %s" % (binary, dump.stderr.strip()))
    tool = json.loads(dump.stdout)
    root = tool["command"]
    os.makedirs(outdir, exist_ok=True)
    pages = page(root, [root["commandName"]], version)
    for fname, text in sorted(pages.items()):
        with open(os.path.join(outdir, fname), "w") as f:
            f.write(text)
    print(" ".join(sorted(pages)))


if __name__ == "__main__":
    main()
