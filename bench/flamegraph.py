#!/usr/bin/env python3
"""bench/flamegraph.py: `perf script` output -> folded stacks and an SVG flame graph.

    perf script -i perf.data | bench/flamegraph.py --title "W1d" --folded out.folded out.svg

Each sample's stack becomes one line "thread;outermost;...;leaf count" (the thread name is the
root, so the store writer and the I/O threads stand apart). The SVG draws every frame as a box
as wide as its share of the samples, callers below callees; hovering shows the name, the
samples and the percentage. Also prints the share of each thread, the store writer's samples
by the write it was running (the store operation, the commit, the fsync), the functions with
the most samples of their own (self time), and houston's own functions (and SQLite's, simdjson's,
spdlog's, malloc's) by the samples they or their callees took (inclusive). Standard library only.
"""

import argparse
import collections
import html
import re
import sys
import zlib

HEADER = re.compile(r"^(\S.*?)\s+(\d+)(?:/(\d+))?\s+")  # comm  pid[/tid]  ...
OFFSET = re.compile(r"\+0x[0-9a-f]+$")


DSOS = {}  # symbol -> the file it came from (kernel, libc, libsqlite3, houston...)


def frames_of(line):
    # "\t    55d5c8a0b1c2 Function(args)+0x12 (/path/dso)"
    parts = line.strip().split(" ", 1)
    if len(parts) < 2:
        return "[unknown]"
    sym, dso = parts[1], ""
    if sym.endswith(")") and " (" in sym:
        dso = sym[sym.rindex(" (") + 2:-1]
        sym = sym[: sym.rindex(" (")]
    sym = OFFSET.sub("", sym) or "[unknown]"
    DSOS.setdefault(sym, dso)
    return sym


# Self time by component: what a leaf frame belongs to, by its file and then by its name.
COMPONENTS = [
    ("kernel (syscalls, TCP, ext4, scheduler)", lambda s, d: "kernel" in d or d.startswith("[")),
    ("SQLite", lambda s, d: "sqlite3" in d or s.startswith("sqlite3")),
    ("libc: malloc/free", lambda s, d: "libc" in d and any(
        k in s for k in ("malloc", "free", "tcache", "chunk", "sysmalloc", "consolidate"))),
    ("libc: memcpy/memset/memcmp/str*", lambda s, d: "libc" in d and any(
        k in s for k in ("mem", "str"))),
    ("libc: other (syscall wrappers, locks)", lambda s, d: "libc" in d),
    ("libstdc++", lambda s, d: "libstdc++" in d),
    ("OpenSSL/libcrypto (SHA-256)", lambda s, d: "libcrypto" in d or "libssl" in d),
    ("libsodium", lambda s, d: "sodium" in d),
    ("simdjson", lambda s, d: "simdjson" in s or "simdjson" in d),
    ("Boost.JSON", lambda s, d: "boost::json" in s),
    ("Boost.Beast (HTTP parse/serialize)", lambda s, d: "boost::beast" in s),
    ("Boost.Asio (executors, handlers, sockets)", lambda s, d: "boost::asio" in s),
    ("fmt", lambda s, d: "fmt::" in s),
    ("spdlog", lambda s, d: "spdlog" in s),
    ("houston: http", lambda s, d: "houston::http" in s),
    ("houston: store", lambda s, d: "houston::store" in s),
    ("houston: intake/ingest", lambda s, d: "houston::intake" in s or "houston::ingest" in s),
    ("houston: api/auth", lambda s, d: "houston::api" in s or "houston::auth" in s),
    ("houston: other", lambda s, d: "houston::" in s),
    ("std:: (inlined containers, shared_ptr, strings)", lambda s, d: s.startswith("std::") or
     "__gnu_cxx" in s),
]


def component(sym):
    dso = DSOS.get(sym, "")
    for name, test in COMPONENTS:
        if test(sym, dso):
            return name
    return "other"


def fold(lines):
    """Yields (stack tuple root..leaf) per sample."""
    thread, frames = None, []
    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            if thread is not None:
                yield tuple([thread] + list(reversed(frames)))
            thread, frames = None, []
            continue
        if not line[0].isspace():
            if thread is not None:  # a sample without a blank line after it
                yield tuple([thread] + list(reversed(frames)))
            m = HEADER.match(line)
            thread = m.group(1).strip() if m else line.split()[0]
            frames = []
        else:
            frames.append(frames_of(line))
    if thread is not None:
        yield tuple([thread] + list(reversed(frames)))


WRITE_OP = re.compile(r"houston::store::sql::SqlStore::(\w+)\(.*\{lambda\(houston::store::sql::Db&\)")
ANSWER = re.compile(r"houston::store::sql::SqlStore::Submit<.*\{lambda\(houston::Status\)")


def store_write(stack):
    """What the store writer was doing in one sample: a write (the store operation whose
    function runs inside the transaction), the commit, the fsync, or answering the callbacks."""
    frames = stack[1:]
    for fn in frames:  # outermost first
        m = WRITE_OP.search(fn)
        if m:
            return m.group(1)
    if any("fdatasync" in fn or "fsync" in fn for fn in frames):
        return "fsync"
    if any(ANSWER.search(fn) for fn in frames):
        return "answering the writes (their callbacks, waking their threads)"
    if any("SqlStore::RunBatch" in fn for fn in frames):
        if any(fn.startswith("sqlite3") for fn in frames):
            return "BEGIN/COMMIT and savepoints (SQLite: WAL pages written)"
        return "RunBatch itself"
    return "other (waiting, the write queue)"


def colour(name):
    h = zlib.crc32(name.encode())
    return f"rgb({205 + h % 50},{90 + (h >> 8) % 110},{40 + (h >> 16) % 40})"


def svg(counts, title, width=1200, row=16):
    total = sum(counts.values())
    # A tree of frames: node = [count, children dict].
    root = [0, {}]
    for stack, n in counts.items():
        root[0] += n
        node = root
        for f in stack:
            node = node[1].setdefault(f, [0, {}])
            node[0] += n
    depth = max((len(s) for s in counts), default=0)
    height = (depth + 3) * row
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="monospace" font-size="11">',
           f'<rect width="100%" height="100%" fill="#fdfdf8"/>',
           f'<text x="{width / 2}" y="{row}" text-anchor="middle" font-size="14">'
           f'{html.escape(title)} ({total} samples)</text>']
    scale = (width - 20) / max(total, 1)

    def draw(node, name, x, level):
        w = node[0] * scale
        if w < 0.3:
            return
        y = height - (level + 1) * row
        pct = 100.0 * node[0] / total
        label = html.escape(name)
        out.append(f'<g><title>{label} ({node[0]} samples, {pct:.2f}%)</title>'
                   f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row - 1}" '
                   f'fill="{colour(name)}" rx="2"/>')
        chars = int(w / 6.6)
        if chars >= 3:
            text = name if len(name) <= chars else name[: chars - 2] + ".."
            out.append(f'<text x="{x + 3:.1f}" y="{y + row - 4}">{html.escape(text)}</text>')
        out.append("</g>")
        cx = x
        for child_name, child in sorted(node[1].items()):
            draw(child, child_name, cx, level + 1)
            cx += child[0] * scale

    x = 10.0
    for name, child in sorted(root[1].items()):
        draw(child, name, x, 0)
        x += child[0] * scale
    out.append("</svg>")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("svg", help="the SVG to write")
    ap.add_argument("--title", default="houston")
    ap.add_argument("--folded", help="also write the folded stacks here")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--inclusive", nargs="*",
                    default=["houston::", "sqlite3", "simdjson", "spdlog", "fdatasync", "malloc",
                             "free"],
                    help="name parts of the functions listed by inclusive time")
    args = ap.parse_args()
    counts = collections.Counter(fold(sys.stdin))
    if not counts:
        sys.exit("flamegraph.py: no samples in the input (is it `perf script` output?)")
    total = sum(counts.values())
    if args.folded:
        with open(args.folded, "w") as f:
            for stack, n in counts.most_common():
                f.write(";".join(stack) + f" {n}\n")
    with open(args.svg, "w") as f:
        f.write(svg(counts, args.title))
    threads, self_time = collections.Counter(), collections.Counter()
    for stack, n in counts.items():
        threads[stack[0]] += n
        self_time[stack[-1] if len(stack) > 1 else "[no stack]"] += n
    print(f"samples: {total}")
    print("by thread:")
    for t, n in threads.most_common():
        print(f"  {100.0 * n / total:5.1f}%  {t}")
    by_component = collections.Counter()
    per_thread = collections.defaultdict(collections.Counter)
    for stack, n in counts.items():
        c = component(stack[-1]) if len(stack) > 1 else "other"
        by_component[c] += n
        per_thread[stack[0]][c] += n
    print("self time by component (all threads):")
    for c, n in by_component.most_common():
        print(f"  {100.0 * n / total:5.1f}%  {c}")
    for t, tn in threads.most_common():
        if tn < total / 10:
            break
        print(f"self time by component, thread {t} (% of all samples):")
        for c, n in per_thread[t].most_common(8):
            print(f"  {100.0 * n / total:5.1f}%  {c}")
    writer = {stack: n for stack, n in counts.items() if stack[0] == "store-writer"}
    if writer:
        by_write = collections.Counter()
        for stack, n in writer.items():
            by_write[store_write(stack)] += n
        print("thread store-writer by write (% of all samples; a write is the SqlStore operation "
              "whose function ran in the transaction):")
        for w, n in by_write.most_common(12):
            print(f"  {100.0 * n / total:5.1f}%  {w}")
    print(f"top {args.top} functions by self time:")
    for fn, n in self_time.most_common(args.top):
        print(f"  {100.0 * n / total:5.1f}%  {fn[:150]}")
    # What each of houston's own functions (and sqlite3's, simdjson's, spdlog's) costs with all
    # it calls: each sample counts once per function on its stack.
    inclusive = collections.Counter()
    for stack, n in counts.items():
        for fn in set(stack[1:]):
            if any(k in fn for k in args.inclusive):
                inclusive[fn] += n
    print(f"top {args.top} of houston's functions (and {', '.join(args.inclusive[1:])}) "
          "by inclusive time:")
    for fn, n in inclusive.most_common(args.top):
        print(f"  {100.0 * n / total:5.1f}%  {fn[:150]}")


if __name__ == "__main__":
    main()
