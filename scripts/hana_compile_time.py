#!/usr/bin/env python3
"""Boost.Hana against typegrad's hand-written metaprogramming: compile time and compiler memory.

typegrad's graph bookkeeping is type-level: a parameter found by its name in a layer's list, the
parameters of a combinator's inner layers flattened into one list with renumbered descriptors, a
map from node types (tags) to indices, and the set of distinct nodes of a graph in which one
tensor is reached twice (shared weights). Each is written here both ways, in generated
translation units that instantiate it at a realistic size and at a larger one:

  param_index  detail::param_index<Name, params<P...>> (nn/layer.hpp): a constexpr search over the
               names; against hana::index_if over hana::tuple_t<P...>.
  flat_params  detail::chain_layers + detail::flat_params (nn/graph.hpp): each inner layer's
               sub-index and first parameter, and params<sub_param<Sub, P>...>; against
               hana::scan_left for the offsets and hana::flatten of hana::transform'ed
               hana::tuple_t's, unpacked into params<...> with hana::template_.
  index_map    detail::index_map (ad/graph.hpp): indexed<I, N> bases, a node's index and the node
               at an index found by deduction; against hana::make_map of type_c -> size_c pairs
               with hana::at_key, and hana::at_c on hana::tuple_t.
  dedupe       the visited set of ad/graph.hpp's topological order (one empty base per node,
               "seen?" is std::is_base_of) over a list in which every node appears twice; against
               hana::fold_left with hana::contains / hana::append (typegrad's former Hana code).

The hand-written variants are copies of the code they name, not #includes of it (the real headers
bring xtensor with them, and both variants must work on the same descriptors): keep them in step
when that code changes. Every TU checks its answers with static_assert, so both variants do the
work and agree. Two more
TUs include only each variant's headers (the cost of parsing them). Each TU is compiled with
-fsyntax-only (pure metaprogramming: nothing to generate) N times, all TUs interleaved in a new
random order each round; the table gives the median wall time, its spread (min-max), the median
user+system CPU time and the median peak memory of the compiler (/usr/bin/time -v).

    scripts/hana_compile_time.py                       # all operations, both sizes, 5 rounds
    scripts/hana_compile_time.py --ops param_index,index_map --sizes realistic --repeat 7
    scripts/hana_compile_time.py --markdown            # as Markdown, for docs/benchmarks.md
    scripts/hana_compile_time.py --keep /tmp/hana_tus  # keep the generated TUs there

Without boost/hana.hpp (the compiler cannot find it) it says so and exits 0 without measuring.
Run it on an otherwise idle machine (compile time is wall time); the load average before and
after is printed with the results.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compile_time import machine_info  # noqa: E402  (the same machine description as its tables)

TIME_BIN = "/usr/bin/time"
FLAGS = ["-std=gnu++20", "-O3", "-fsyntax-only"]

# The sizes of each operation: realistic (a depth-16 network) and larger.
SIZES = {
    # (lists, parameters per list): 16 layers of 2-4 parameters, each looked up by name; then 8
    # combinators' flattened lists of 64 parameters, each of the 512 looked up.
    "param_index": {"realistic": (16, None), "large": (8, 64)},
    # (combinators, inner layers each): 8 blocks of 16 layers of 2-4 parameters; 2 blocks of 64.
    "flat_params": {"realistic": (8, 16), "large": (2, 64)},
    # (graphs, nodes each): 4 graphs of 100 nodes (a depth-16 training TU's programs), every
    # node's index and every index's node; 1 graph of 400.
    "index_map": {"realistic": (4, 100), "large": (1, 400)},
    # (graphs, distinct nodes each, every node listed twice, as a shared tensor is reached): 1 x 100;
    # 1 x 200 (Hana's version needs 4.7 GB and a minute for 4 x 100 already).
    "dedupe": {"realistic": (1, 100), "large": (1, 200)},
}
OPS = list(SIZES)

# ------------------------------------------------------------------------------------------------
# The generated translation units

PRELUDE = """\
#include <algorithm>
#include <cstddef>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

// As in include/typegrad/nn/layer.hpp.
template <std::size_t N>
struct fixed_string {
    char value[N]{};
    constexpr fixed_string(const char (&s)[N]) noexcept { std::copy_n(s, N, value); }
    constexpr std::string_view view() const noexcept { return {value, N - 1}; }
    constexpr operator std::string_view() const noexcept { return view(); }
};
template <std::size_t... N>
struct Shape {};
template <fixed_string Name, class S>
struct param {
    static constexpr std::string_view name = Name;
    using shape = S;
};
template <class... P>
struct params {
    static constexpr std::size_t size = sizeof...(P);
};
template <std::size_t Sub, class P>   // as nn/graph.hpp's sub_param
struct sub_param {
    static constexpr std::string_view name = P::name;
    using shape = typename P::shape;
    static constexpr std::size_t sub = Sub;
    using inner = P;
};
template <class... Ls>
struct Chain {};
template <class... Ns>
struct type_list {};
template <std::size_t G, std::size_t I>   // node I of graph G
struct node {};
"""

HANA_HEADERS = """\
#include <boost/hana/append.hpp>
#include <boost/hana/at.hpp>
#include <boost/hana/at_key.hpp>
#include <boost/hana/contains.hpp>
#include <boost/hana/flatten.hpp>
#include <boost/hana/fold_left.hpp>
#include <boost/hana/index_if.hpp>
#include <boost/hana/integral_constant.hpp>
#include <boost/hana/map.hpp>
#include <boost/hana/pair.hpp>
#include <boost/hana/plus.hpp>
#include <boost/hana/scan_left.hpp>
#include <boost/hana/transform.hpp>
#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>
#include <boost/hana/unpack.hpp>
namespace hana = boost::hana;
"""

# --- param_index ---------------------------------------------------------------------------------

PARAM_INDEX_HAND = """\
// include/typegrad/nn/layer.hpp
template <fixed_string Name, class List>
struct param_index;
template <fixed_string Name, class... P>
struct param_index<Name, params<P...>> {
    static constexpr std::size_t value = [] {
        constexpr bool same[] = {(P::name == Name.view())..., false};
        for (std::size_t i = 0; i < sizeof...(P); ++i)
            if (same[i]) return i;
        return sizeof...(P);
    }();
};
"""

PARAM_INDEX_HANA = """\
template <fixed_string Name>
struct named {
    template <class P>
    constexpr auto operator()(hana::basic_type<P>) const {
        return hana::bool_c<P::name == Name.view()>;
    }
};
template <fixed_string Name, class List>
struct param_index;
template <fixed_string Name, class... P>
struct param_index<Name, params<P...>> {
    static constexpr std::size_t value =
        std::remove_cvref_t<decltype(hana::index_if(hana::tuple_t<P...>, named<Name>{})
                                         .value_or(hana::size_c<sizeof...(P)>))>::value;
};
"""

LOCAL_NAMES = ["W", "b", "gamma", "beta"]


def param_index_body(size: tuple[int, int | None]) -> str:
    lists, per = size
    out = []
    for i in range(lists):
        n = per if per is not None else 2 + i % 3           # 2-4 parameters a layer
        names = LOCAL_NAMES if per is None else [f"{'Wb'[j % 2]}{j // 2}" for j in range(n)]
        ps = ", ".join(f'param<"{names[j]}", Shape<{i + 1}, {j + 1}>>' for j in range(n))
        out.append(f"using P{i} = params<{ps}>;")
        for j in range(n):
            out.append(f'static_assert(param_index<"{names[j]}", P{i}>::value == {j});')
        out.append(f'static_assert(param_index<"absent", P{i}>::value == {n});')
    return "\n".join(out) + "\n"


# --- flat_params ---------------------------------------------------------------------------------

FLAT_HAND = """\
// include/typegrad/nn/graph.hpp: inner_layer, chain_layers, flat_params
template <class L, std::size_t Sub, std::size_t First>
struct inner_layer {
    using layer = L;
    using parameters = typename L::parameters;
    static constexpr std::size_t sub = Sub, first = First, count = parameters::size;
};
template <std::size_t Sub, std::size_t First, class... Ls>
struct chain_layers {
    using type = std::tuple<>;
    static constexpr std::size_t next_sub = Sub, next_first = First;
};
template <std::size_t Sub, std::size_t First, class L, class... Ls>
struct chain_layers<Sub, First, L, Ls...> {
    using here = inner_layer<L, Sub, First>;
    using rest = chain_layers<Sub + (here::count > 0 ? 1 : 0), First + here::count, Ls...>;
    template <class... R>
    static auto join(std::tuple<R...>) -> std::tuple<here, R...>;
    using type = decltype(join(typename rest::type{}));
    static constexpr std::size_t next_sub = rest::next_sub, next_first = rest::next_first;
};
template <class Inner>
struct flat_params;
template <>
struct flat_params<std::tuple<>> {
    using type = params<>;
};
template <class I0, class... I>
struct flat_params<std::tuple<I0, I...>> {
    template <class... P, class... Q>
    static auto join(params<P...>, params<Q...>) -> params<sub_param<I0::sub, P>..., Q...>;
    using type = decltype(join(typename I0::parameters{}, typename flat_params<std::tuple<I...>>::type{}));
};
template <class C>
struct combinator;
template <class... Ls>
struct combinator<Chain<Ls...>> {
    using inner = typename chain_layers<0, 0, Ls...>::type;
    using parameters = typename flat_params<inner>::type;
    template <std::size_t K>
    static constexpr std::size_t first = std::tuple_element_t<K, inner>::first;
};
"""

FLAT_HANA = """\
template <class... P>
constexpr auto as_tuple_t(params<P...>) { return hana::tuple_t<P...>; }
template <std::size_t Sub>
struct renumber {
    template <class P>
    constexpr auto operator()(hana::basic_type<P>) const { return hana::type_c<sub_param<Sub, P>>; }
};
template <class C>
struct combinator;
template <class... Ls>
struct combinator<Chain<Ls...>> {
    // every layer here has parameters, so its sub-index is its position
    static constexpr auto firsts = hana::scan_left(hana::make_tuple(hana::size_c<Ls::parameters::size>...),
                                                   hana::size_c<0>, hana::plus);
    static constexpr auto flat = []<std::size_t... I>(std::index_sequence<I...>) {
        return hana::flatten(hana::make_tuple(hana::transform(as_tuple_t(typename Ls::parameters{}), renumber<I>{})...));
    }(std::index_sequence_for<Ls...>{});
    using parameters = typename decltype(hana::unpack(flat, hana::template_<params>))::type;
    template <std::size_t K>
    static constexpr std::size_t first = decltype(+hana::at_c<K>(firsts))::value;
};
"""


def flat_params_body(size: tuple[int, int]) -> str:
    blocks, layers = size
    out = []
    for c in range(blocks):
        chain = []
        firsts = []
        total = 0
        for i in range(layers):
            n = 2 + (i + c) % 3
            ps = ", ".join(f'param<"{LOCAL_NAMES[j]}", Shape<{c}, {i}, {j}>>' for j in range(n))
            out.append(f"struct L{c}_{i} {{ using parameters = params<{ps}>; }};")
            chain.append(f"L{c}_{i}")
            firsts.append(total)
            total += n
        out.append(f"using B{c} = combinator<Chain<{', '.join(chain)}>>;")
        out.append(f"static_assert(B{c}::parameters::size == {total});")
        last = layers - 1
        n_last = 2 + (last + c) % 3
        out.append(f"static_assert(B{c}::first<{last}> == {firsts[last]});")
        out.append(f"static_assert(std::is_same_v<decltype([]<class... P>(params<P...>) {{ "
                   f"return std::tuple_element_t<{total - 1}, std::tuple<P...>>{{}}; }}(B{c}::parameters{{}})), "
                   f'sub_param<{last}, param<"{LOCAL_NAMES[n_last - 1]}", Shape<{c}, {last}, {n_last - 1}>>>>);')
    return "\n".join(out) + "\n"


# --- index_map -----------------------------------------------------------------------------------

INDEX_MAP_HAND = """\
// include/typegrad/ad/graph.hpp
template <std::size_t I, class N>
struct indexed {};
template <class Is, class... Ns>
struct index_map_impl;
template <std::size_t... I, class... Ns>
struct index_map_impl<std::index_sequence<I...>, Ns...> : indexed<I, Ns>... {};
template <class List>
struct index_map;
template <class... Ns>
struct index_map<type_list<Ns...>> {
    using type = index_map_impl<std::index_sequence_for<Ns...>, Ns...>;
};
template <class N, std::size_t I>
constexpr std::size_t index_from(const indexed<I, N>*) noexcept { return I; }
template <class N>
constexpr std::size_t index_from(const void*) noexcept { return ~std::size_t{0}; }
template <std::size_t I, class N>
N node_from(const indexed<I, N>*);
template <class List>
struct graph {
    using map = typename index_map<List>::type;
    template <class N>
    static constexpr std::size_t index_of = index_from<N>(static_cast<const map*>(nullptr));
    template <std::size_t I>
    using node_at = decltype(node_from<I>(static_cast<const map*>(nullptr)));
};
"""

INDEX_MAP_HANA = """\
template <class List>
struct graph;
template <class... Ns>
struct graph<type_list<Ns...>> {
    static constexpr auto nodes = hana::tuple_t<Ns...>;
    static constexpr auto map = []<std::size_t... I>(std::index_sequence<I...>) {
        return hana::make_map(hana::make_pair(hana::type_c<Ns>, hana::size_c<I>)...);
    }(std::index_sequence_for<Ns...>{});
    template <class N>
    static constexpr std::size_t index_of = std::remove_cvref_t<decltype(hana::at_key(map, hana::type_c<N>))>::value;
    template <std::size_t I>
    using node_at = typename std::remove_cvref_t<decltype(hana::at_c<I>(nodes))>::type;
};
"""


def index_map_body(size: tuple[int, int]) -> str:
    graphs, n = size
    out = []
    for g in range(graphs):
        nodes = ", ".join(f"node<{g}, {i}>" for i in range(n))
        out.append(f"using G{g} = graph<type_list<{nodes}>>;")
        for i in range(n):
            out.append(f"static_assert(G{g}::index_of<node<{g}, {i}>> == {i}); "
                       f"static_assert(std::is_same_v<G{g}::node_at<{i}>, node<{g}, {i}>>);")
    return "\n".join(out) + "\n"


# --- dedupe (shared tensors: the visited set) ----------------------------------------------------

DEDUPE_HAND = """\
// include/typegrad/ad/graph.hpp: the visited set of the topological order
template <class N>
struct tag {};
template <class... Ns>
struct visited : tag<Ns>... {
    using list = type_list<Ns...>;
};
template <class V, class N>
struct append;
template <class... Ns, class N>
struct append<visited<Ns...>, N> {
    using type = visited<Ns..., N>;
};
template <class V, class N, bool Seen = std::is_base_of_v<tag<N>, V>>
struct visit {
    using type = V;
};
template <class V, class N>
struct visit<V, N, false> {
    using type = typename append<V, N>::type;
};
template <class V, class... Cs>
struct visit_all {
    using type = V;
};
template <class V, class C, class... Cs>
struct visit_all<V, C, Cs...> {
    using type = typename visit_all<typename visit<V, C>::type, Cs...>::type;
};
template <class List>
struct distinct;
template <class... Ns>
struct distinct<type_list<Ns...>> {
    using type = typename visit_all<visited<>, Ns...>::type::list;
};
"""

DEDUPE_HANA = """\
struct add_unseen {
    template <class Seen, class N>
    constexpr auto operator()(Seen seen, N n) const {
        if constexpr (decltype(hana::contains(seen, n))::value)
            return seen;
        else
            return hana::append(seen, n);
    }
};
template <class List>
struct distinct;
template <class... Ns>
struct distinct<type_list<Ns...>> {
    static constexpr auto order = hana::fold_left(hana::tuple_t<Ns...>, hana::tuple_t<>, add_unseen{});
    using type = typename decltype(hana::unpack(order, hana::template_<type_list>))::type;
};
"""


def dedupe_body(size: tuple[int, int]) -> str:
    graphs, n = size
    out = []
    for g in range(graphs):
        # node i is reached from node i + 1 and again later (a shared tensor): i, then i - n/2 again
        seq = []
        for i in range(n):
            seq.append(i)
            if i >= n // 2:
                seq.append(i - n // 2)
        seq += list(range(n // 2, n))     # and the second half once more at the end
        listed = ", ".join(f"node<{g}, {i}>" for i in seq)
        expect = ", ".join(f"node<{g}, {i}>" for i in range(n))
        out.append(f"static_assert(std::is_same_v<distinct<type_list<{listed}>>::type, type_list<{expect}>>);")
    return "\n".join(out) + "\n"


GEN = {
    "param_index": (PARAM_INDEX_HAND, PARAM_INDEX_HANA, param_index_body),
    "flat_params": (FLAT_HAND, FLAT_HANA, flat_params_body),
    "index_map": (INDEX_MAP_HAND, INDEX_MAP_HANA, index_map_body),
    "dedupe": (DEDUPE_HAND, DEDUPE_HANA, dedupe_body),
}


def tu(op: str | None, size: str | None, impl: str) -> str:
    head = f"// Generated by scripts/hana_compile_time.py: {op or 'headers only'} {size or ''} ({impl})\n"
    text = head + PRELUDE + (HANA_HEADERS if impl == "hana" else "")
    if op is None:
        return text
    hand, hana, body = GEN[op]
    return text + (hana if impl == "hana" else hand) + body(SIZES[op][size])


# ------------------------------------------------------------------------------------------------
# Running the compiler


@dataclass
class Run:
    seconds: float | None = None
    cpu: float | None = None
    peak_mb: float | None = None
    error: str | None = None


def compile_once(cxx: str, src: Path, timeout: float) -> Run:
    with tempfile.NamedTemporaryFile("r", suffix=".time", delete=False) as tf:
        time_file = Path(tf.name)
    cmd = [TIME_BIN, "-v", "-o", str(time_file), cxx, *FLAGS, str(src)]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)   # /usr/bin/time, the driver and cc1plus we started
        proc.communicate()
        time_file.unlink(missing_ok=True)
        return Run(error=f"timeout after {timeout:.0f} s")
    wall = time.perf_counter() - start
    report = time_file.read_text(errors="replace")
    time_file.unlink(missing_ok=True)
    if proc.returncode != 0:
        lines = [l for l in err.splitlines() if "error" in l]
        return Run(error=(lines[0] if lines else err.strip().splitlines()[0] if err.strip() else
                          f"exit code {proc.returncode}")[:300])
    vals = {}
    for line in report.splitlines():
        key, _, v = line.strip().rpartition(": ")
        vals[key] = v
    try:
        cpu = float(vals["User time (seconds)"]) + float(vals["System time (seconds)"])
        peak = float(vals["Maximum resident set size (kbytes)"]) / 1024
    except (KeyError, ValueError):
        cpu = peak = None
    return Run(seconds=wall, cpu=cpu, peak_mb=peak)


def hana_available(cxx: str) -> tuple[bool, str]:
    with tempfile.TemporaryDirectory() as d:
        src = Path(d) / "probe.cpp"
        src.write_text("#include <boost/hana.hpp>\n#include <boost/hana/version.hpp>\n")
        try:
            p = subprocess.run([cxx, "-std=gnu++20", "-fsyntax-only", str(src)], capture_output=True, text=True,
                               timeout=120)
        except (OSError, subprocess.TimeoutExpired) as e:
            return False, str(e)
        return p.returncode == 0, (p.stderr.strip().splitlines() or [""])[0]


def load() -> str:
    a, b, c = os.getloadavg()
    return f"{a:.2f} {b:.2f} {c:.2f}"


@dataclass
class Case:
    op: str | None
    size: str | None
    impl: str
    path: Path
    runs: list[Run] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.op or 'headers only'}{' ' + self.size if self.size else ''} ({self.impl})"


def summary(c: Case) -> dict:
    ok = [r for r in c.runs if r.seconds is not None]
    errs = [r.error for r in c.runs if r.error]
    if not ok:
        return {"error": errs[0] if errs else "not run"}
    w = [r.seconds for r in ok]
    cpu = [r.cpu for r in ok if r.cpu is not None]
    mem = [r.peak_mb for r in ok if r.peak_mb is not None]
    return {"median": statistics.median(w), "min": min(w), "max": max(w), "n": len(ok),
            "cpu": statistics.median(cpu) if cpu else None, "mem": statistics.median(mem) if mem else None,
            "error": errs[0] if errs else None}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ops", default=",".join(OPS), help=f"comma-separated, of {','.join(OPS)} (default all)")
    ap.add_argument("--sizes", default="realistic,large", help="realistic, large or both (default both)")
    ap.add_argument("--repeat", type=int, default=5, help="rounds: compiles per TU (default 5)")
    ap.add_argument("--cxx", default="g++", help="the compiler (default g++)")
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds before a compile is stopped (default 300)")
    ap.add_argument("--no-headers", action="store_true", help="skip the two headers-only TUs")
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    ap.add_argument("--keep", metavar="DIR", help="write the generated TUs to DIR and keep them")
    ap.add_argument("--seed", type=int, default=1, help="seed of the interleaving order (default 1)")
    args = ap.parse_args()

    ops = [o for o in args.ops.split(",") if o]
    sizes = [s for s in args.sizes.split(",") if s]
    bad = [o for o in ops if o not in SIZES] + [s for s in sizes if s not in ("realistic", "large")]
    if bad:
        ap.error(f"unknown: {', '.join(bad)}")
    if shutil.which(args.cxx) is None:
        print(f"hana_compile_time: compiler {args.cxx!r} not found; skipped", file=sys.stderr)
        return 0
    found, why = hana_available(args.cxx)
    if not found:
        print(f"hana_compile_time: boost/hana.hpp not found by {args.cxx} ({why}); skipped, nothing measured")
        return 0
    if not os.access(TIME_BIN, os.X_OK):
        print(f"hana_compile_time: {TIME_BIN} not found (Debian: apt-get install time); skipped", file=sys.stderr)
        return 0

    workdir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="hana_compile_time."))
    workdir.mkdir(parents=True, exist_ok=True)
    cases: list[Case] = []
    try:
        if not args.no_headers:
            for impl in ("hand", "hana"):
                cases.append(Case(None, None, impl, workdir / f"headers_{impl}.cpp"))
        for op in ops:
            for size in sizes:
                for impl in ("hand", "hana"):
                    cases.append(Case(op, size, impl, workdir / f"{op}_{size}_{impl}.cpp"))
        for c in cases:
            c.path.write_text(tu(c.op, c.size, c.impl))

        rng = random.Random(args.seed)
        load_before = load()
        started = time.time()
        for r in range(args.repeat):
            order = cases[:]
            rng.shuffle(order)
            for c in order:
                run = compile_once(args.cxx, c.path, args.timeout)
                c.runs.append(run)
                if run.error:
                    print(f"  {c.label}: {run.error}", file=sys.stderr)
            print(f"round {r + 1}/{args.repeat} done ({time.time() - started:.0f} s, load {load()})", file=sys.stderr)
        load_after = load()
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    info = machine_info(args.cxx)
    print(f"{info['compiler']}; {' '.join(FLAGS)}; {args.repeat} rounds interleaved (seed {args.seed})")
    print(f"{info['cpu']}, {info['memory']}; {info['os']}")
    print(f"load average (1, 5, 15 min) before: {load_before}; after: {load_after}")

    rows = []
    by_key = {(c.op, c.size, c.impl): summary(c) for c in cases}
    keys = [(None, None)] + [(op, size) for op in ops for size in sizes]
    if args.no_headers:
        keys = keys[1:]
    for op, size in keys:
        hand, hana = by_key[(op, size, "hand")], by_key[(op, size, "hana")]
        what = "headers only" if op is None else f"{op}, {size} {SIZES[op][size]}"
        rows.append((what, hand, hana))

    def cell(s: dict) -> str:
        if s.get("median") is None:
            return f"failed: {s['error']}"
        return f"{s['median']:.2f} ({s['min']:.2f}-{s['max']:.2f})"

    def num(v: float | None, fmt: str) -> str:
        return "?" if v is None else format(v, fmt)

    def ratio(a: dict, b: dict) -> str:
        if a.get("median") is None or b.get("median") is None:
            return "-"
        return f"{b['median'] / a['median']:.2f}"

    if args.markdown:
        print()
        print("| TU | hand-written: wall s, median (min–max) | Hana: wall s, median (min–max) | Hana ÷ hand | "
              "CPU s hand / Hana | peak MB hand / Hana |")
        print("|---|---:|---:|---:|---:|---:|")
        for what, a, b in rows:
            print(f"| {what} | {cell(a)} | {cell(b)} | {ratio(a, b)} | "
                  f"{num(a.get('cpu'), '.2f')} / {num(b.get('cpu'), '.2f')} | "
                  f"{num(a.get('mem'), '.0f')} / {num(b.get('mem'), '.0f')} |")
    else:
        print()
        print(f"{'TU':40} {'hand (s)':>20} {'hana (s)':>20} {'ratio':>6} {'cpu hand/hana':>14} {'MB hand/hana':>13}")
        for what, a, b in rows:
            print(f"{what:40} {cell(a):>20} {cell(b):>20} {ratio(a, b):>6} "
                  f"{num(a.get('cpu'), '.2f') + '/' + num(b.get('cpu'), '.2f'):>14} "
                  f"{num(a.get('mem'), '.0f') + '/' + num(b.get('mem'), '.0f'):>13}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
