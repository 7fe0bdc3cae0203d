"""`find` as a link predictor: metrics by hand, the edge list -> contract round trip,
determinism, the whole pipeline on real graphs shipped with networkx, a temporal example
made by hand, and the CLI. No result of find is hard-coded: its weights are changing."""
from __future__ import annotations

import gzip
import itertools
import json
import math

import networkx as nx
import numpy as np
import phonenumbers
import pytest
from click.testing import CliRunner

from skiptrace.errors import SkiptraceError
from skiptrace.evaluate.linkpred import (STATIC_BASELINES, TEMPORAL_BASELINES, EdgeListError,
                                         TrainGraph, auc, baseline_scores, evaluate_linkpred,
                                         expected_rank, hit_probability, personalised_pagerank,
                                         random_split, read_edges, temporal_split, write_contract)
from skiptrace.ingest import load
from skiptrace.store import SQLiteStore


def write_csv(path, header, rows, gz=False):
    text = ",".join(header) + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows)
    if gz:
        with gzip.open(path, "wt", encoding="utf-8") as f:
            f.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def graph_csv(g: nx.Graph, path, weight: str | None = None):
    rows = [(u, v, d[weight]) if weight else (u, v) for u, v, d in g.edges(data=True)]
    header = ["src", "dst", "weight"] if weight else ["src", "dst"]
    return write_csv(path, header, rows)


# -- metrics by hand ---------------------------------------------------------------------
def brute(scores, rel, k):
    """Expected first-relevant rank and P(hit@k) over every tie-breaking order."""
    scores = np.asarray(scores, float)
    ranks, hits, n = 0.0, 0.0, 0
    # rank by score; enumerate all permutations, keep those that respect the score order
    for perm in itertools.permutations(range(len(scores))):
        if any(scores[perm[i]] < scores[perm[i + 1]] for i in range(len(perm) - 1)):
            continue
        first = next(i for i, j in enumerate(perm) if rel[j]) + 1
        ranks += first
        hits += first <= k
        n += 1
    return ranks / n, hits / n


def test_expected_rank_with_ties_by_hand():
    s = np.array([0.9, 0.5, 0.5, 0.5])
    # one relevant item in a tie of 3 behind one better item: 1 + (3 + 1) / (1 + 1)
    assert expected_rank(s, np.array([False, True, False, False])) == 3.0
    # two of the three tied are relevant: 1 + 4 / 3
    assert expected_rank(s, np.array([False, True, True, False])) == pytest.approx(1 + 4 / 3)
    # the best item is relevant: no tie, rank 1
    assert expected_rank(s, np.array([0])) == 1.0
    # every item scored 0 (find lists none of them): the middle of 10
    assert expected_rank(np.zeros(10), np.array([3])) == 5.5
    # index arrays and masks agree
    assert expected_rank(s, np.array([2])) == \
        expected_rank(s, np.array([False, False, True, False]))


def test_hit_probability_with_ties_by_hand():
    s = np.array([0.9, 0.5, 0.5, 0.5])
    rel = np.array([False, True, False, False])
    assert hit_probability(s, rel, 1) == 0.0           # the better item always comes first
    assert hit_probability(s, rel, 2) == pytest.approx(1 / 3)
    assert hit_probability(s, rel, 3) == pytest.approx(2 / 3)
    assert hit_probability(s, rel, 10) == 1.0
    # a tie of 4 holding 1 relevant, nothing above: hit@1 = 1/4, hit@2 = 1 - C(3,2)/C(4,2)
    assert hit_probability(np.zeros(4), np.array([0]), 1) == pytest.approx(0.25)
    assert hit_probability(np.zeros(4), np.array([0]), 2) == pytest.approx(0.5)


@pytest.mark.parametrize("seed", range(8))
def test_tie_metrics_match_brute_force(seed):
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 3, size=6).astype(float)
    rel = rng.random(6) < 0.4
    rel[rng.integers(0, 6)] = True
    for k in (1, 2, 3):
        want_rank, want_hit = brute(scores, rel, k)
        assert expected_rank(scores, rel) == pytest.approx(want_rank)
        assert hit_probability(scores, rel, k) == pytest.approx(want_hit)


def test_auc_counts_ties_as_half():
    # pairs: 1>0.5, 1>0, 0.5=0.5 (1/2), 0.5>0  -> 3.5 / 4
    assert auc(np.array([1.0, 0.5]), np.array([0.5, 0.0])) == pytest.approx(0.875)
    assert auc(np.zeros(3), np.zeros(5)) == pytest.approx(0.5)   # all tied: a coin
    assert auc(np.array([2.0]), np.array([1.0])) == 1.0
    assert math.isnan(auc(np.array([]), np.array([1.0])))


def test_personalised_pagerank_matches_networkx():
    g = nx.karate_club_graph()
    from scipy import sparse

    A = sparse.csr_matrix(nx.to_scipy_sparse_array(g, nodelist=range(34), weight=None))
    got = personalised_pagerank(A, np.array([0, 33]), restart=0.25)
    for row, s in zip(got, (0, 33)):
        want = nx.pagerank(g, alpha=0.75, personalization={s: 1.0}, weight=None, tol=1e-12)
        assert np.allclose(row, [want[i] for i in range(34)], atol=1e-7)


def test_baselines_by_hand():
    # path 0-1-2 plus 0-3, 3-2: 0 and 2 share neighbours 1 (degree 2) and 3 (degree 2)
    el_rows = [(0, 1), (1, 2), (0, 3), (3, 2), (2, 4)]
    from skiptrace.evaluate.linkpred import EdgeList

    el = EdgeList("mem", ["0", "1", "2", "3", "4"], np.array([a for a, _ in el_rows]),
                  np.array([b for _, b in el_rows]), digits=list(range(5)))
    g = TrainGraph.build(el, np.ones(len(el_rows), bool))
    b = baseline_scores(g, np.array([0]))
    assert b["cn"][0, 2] == 2
    assert b["jaccard"][0, 2] == pytest.approx(2 / 3)       # N(0)={1,3}, N(2)={1,3,4}
    assert b["ra"][0, 2] == pytest.approx(1 / 2 + 1 / 2)
    assert b["adamic_adar"][0, 2] == pytest.approx(2 / math.log(2))
    assert b["ra"][0, 4] == 0 and b["cn"][0, 4] == 0
    assert b["ppr"][0].sum() == pytest.approx(1.0)


# -- edge list -> contract layout -> load --------------------------------------------------
def test_round_trip_counts_directions_seconds_times(tmp_path):
    path = write_csv(tmp_path / "e.csv.gz", ["src", "dst", "weight", "time"], [
        (1, 2, 30, 100), (2, 1, 0, 200), (1, 2, -1, 300), (1, 2, 15, 400),
        (3, 1, 60, 50), (3, 3, 5, 10)], gz=True)
    el = read_edges(path)
    assert el.n == 3 and el.events == 5 and el.self_loops == 1
    pt = write_contract(el, tmp_path / "in")
    assert len(pt) == 2
    store = SQLiteStore(tmp_path / "s.db")
    try:
        report = load(store, tmp_path / "in")
        counts = store.counts()
        assert counts.nodes["Borrower"] == 3 and counts.nodes["Phone"] == 3
        phones = {el.phone(i) for i in range(3)}
        for p in phones:
            assert phonenumbers.is_valid_number(phonenumbers.parse(p))
        assert el.phone(0) == "+8613800000001"     # the id, zero-padded to 8 digits
        calls = {}
        for e in store.stream_edges(["CALLED"]):
            calls[frozenset((e.src, e.dst))] = e
        assert len(calls) == 2
        e12 = calls[frozenset(("Phone:+8613800000001", "Phone:+8613800000002"))]
        # direction: three calls 1 -> 2 and one 2 -> 1, whichever end the store keeps as src
        fwd = e12.props["calls_a_to_b"] if e12.src.endswith("1") else e12.props["calls_b_to_a"]
        back = e12.props["calls_b_to_a"] if e12.src.endswith("1") else e12.props["calls_a_to_b"]
        assert (fwd, back) == (3, 1)
        assert e12.props["seconds_total"] == 45               # positive weights only
        # study-relative times (seconds from the start) count from 2026-01-01T00:00:00Z
        assert e12.props["first_at"] == "2026-01-01T00:01:40Z"
        assert e12.props["last_at"] == "2026-01-01T00:06:40Z"
        e13 = calls[frozenset(("Phone:+8613800000001", "Phone:+8613800000003"))]
        assert e13.props["calls_a_to_b"] + e13.props["calls_b_to_a"] == 1
        assert e13.props["seconds_total"] == 60
        has = list(store.stream_edges(["HAS_PHONE"]))
        assert {(e.src, e.dst) for e in has} == {(f"Borrower:N{i}", f"Phone:+8613800000{i:03d}")
                                                 for i in (1, 2, 3)}
        b = store.get_nodes(["Borrower:N1"])["Borrower:N1"]
        assert b["region"] == "CN" and b["timezone"] == "UTC" and b["status"] == "delinquent"
        assert report.rows > 0
    finally:
        store.close()


def test_unix_times_and_static_files(tmp_path):
    el = read_edges(write_csv(tmp_path / "u.csv", ["src", "dst", "time"],
                              [(5, 6, 1_700_000_000), (6, 7, 1_700_086_400)]))
    pt = write_contract(el, tmp_path / "u")
    text = (tmp_path / "u" / "calls.csv").read_text()
    assert "2023-11-14T22:13:20Z" in text and pt.seconds is None
    el = read_edges(write_csv(tmp_path / "s.csv", ["src", "dst"], [("a", "b"), ("b", "c")]))
    write_contract(el, tmp_path / "s")
    header = (tmp_path / "s" / "calls.csv").read_text().splitlines()[0]
    assert header == "phone_a,phone_b,calls_a_to_b,calls_b_to_a"     # no times: allowed
    assert [el.phone(i) for i in range(3)] == ["+8613800000000", "+8613800000001", "+8613800000002"]


def test_undirected_lists_are_mutual_ties(tmp_path):
    """A list where no pair is written both ways is undirected: each contact counts both ways
    (else every tie would look one-sided to find's reciprocity and broadcast signals)."""
    und = read_edges(write_csv(tmp_path / "u.csv", ["src", "dst"], [(1, 2), (1, 3), (3, 2)]))
    assert not und.directed
    write_contract(und, tmp_path / "u")
    rows = (tmp_path / "u" / "calls.csv").read_text().splitlines()[1:]
    assert all(r.split(",")[2] == r.split(",")[3] == "1" for r in rows)
    d = read_edges(write_csv(tmp_path / "d.csv", ["src", "dst"], [(1, 2), (2, 1), (1, 3)]))
    assert d.directed
    write_contract(d, tmp_path / "d")
    rows = sorted(r.split(",")[2:4] for r in (tmp_path / "d" / "calls.csv").read_text().splitlines()[1:])
    assert rows == [["1", "0"], ["1", "1"]]


@pytest.mark.parametrize("text,reason", [
    ("from,to\n1,2\n", "bad header"),
    ("src,dst\n1\n", ":2: 1 fields"),
    ("src,dst,time\n1,2,x\n", ":2: weight and time must be numbers"),
    ("src,dst\n1,2\n3,a b\n", ":3: bad dst"),
    ("src,dst\n4,4\n", "no edges"),
    ("", "empty file"),
])
def test_bad_edge_lists_name_file_line_and_reason(tmp_path, text, reason):
    p = tmp_path / "bad.csv"
    p.write_text(text)
    with pytest.raises(EdgeListError, match=reason) as exc:
        read_edges(p)
    assert str(p) in str(exc.value)
    with pytest.raises(EdgeListError, match="no such file"):
        read_edges(tmp_path / "missing.csv")


# -- splits and determinism --------------------------------------------------------------
def test_random_split_hides_a_share_of_pairs_and_excludes_training_neighbours(tmp_path):
    el = read_edges(graph_csv(nx.karate_club_graph(), tmp_path / "k.csv"))
    sp = random_split(el, 0.2, np.random.default_rng(0))
    hidden = {(min(s, int(v)), max(s, int(v))) for s, vs in sp.relevant.items() for v in vs}
    assert len(hidden) == round(0.2 * 78)
    train_pairs = {(min(a, b), max(a, b)) for a, b in zip(el.src[sp.train], el.dst[sp.train])}
    assert not hidden & train_pairs and len(hidden | train_pairs) == 78
    for s, ex in sp.exclude.items():
        assert set(ex.tolist()).isdisjoint(sp.relevant[s].tolist())


def test_same_seed_same_result_other_seed_other_splits(tmp_path):
    path = graph_csv(nx.karate_club_graph(), tmp_path / "k.csv")

    def strip(d):
        d = dict(d)
        d.pop("seconds")
        d.pop("find_ms_p50")
        d["splits"] = [{k: v for k, v in s.items() if k not in ("seconds", "find_ms_p50")}
                       for s in d["splits"]]
        return d

    a = evaluate_linkpred(path, splits=2, seed=3, sources=10).as_dict()
    b = evaluate_linkpred(path, splits=2, seed=3, sources=10).as_dict()
    c = evaluate_linkpred(path, splits=2, seed=4, sources=10).as_dict()
    assert strip(a) == strip(b)
    assert strip(a)["splits"] != strip(c)["splits"]


# -- the whole pipeline on real graphs -----------------------------------------------------
@pytest.mark.parametrize("name,make,weight,ra_beats_chance", [
    ("karate", nx.karate_club_graph, None, True),
    ("les_miserables", nx.les_miserables_graph, "weight", True),
    ("florentine", nx.florentine_families_graph, None, False),   # 20 edges, almost a tree
])
def test_pipeline_on_real_graphs(tmp_path, name, make, weight, ra_beats_chance):
    path = graph_csv(make(), tmp_path / f"{name}.csv", weight)
    hide = 0.2 if name == "florentine" else 0.1
    res = evaluate_linkpred(path, hide=hide, splits=3, seed=1, sources=None)
    assert len(res.splits) == 3
    assert set(res.method_names) == {"find", *STATIC_BASELINES}
    for s in res.splits:
        assert s.sources > 0 and s.relevant_pairs > 0
        for m, d in s.methods.items():
            for k, v in d.items():
                assert 0.0 <= v <= 1.0, (name, m, k, v)
            assert d["hit@1"] <= d["hit@10"]
            assert d["mrr"] >= d["hit@1"] - 1e-12  # 1/E[rank] >= P(rank 1): (k+1)/(t+1) >= k/t
    summ = res.summary()
    if ra_beats_chance:
        assert summ["ra"]["auc"]["mean"] > 0.5
    assert res.find_ms_p50()["find"] > 0
    d = res.as_dict()
    json.dumps(d)                                   # plain JSON
    assert d["methods"]["find"]["auc"]["mean"] == \
        pytest.approx(summ["find"]["auc"]["mean"], abs=1e-6)


def test_several_scorers_and_trainers_share_one_read(tmp_path):
    from skiptrace.contacts.ranking.model import LinearScorer

    path = graph_csv(nx.karate_club_graph(), tmp_path / "k.csv")
    walk_only = LinearScorer({"ppr": 5.0}, -2.0, source="walk only")
    seen = []

    def trainer(store):
        seen.append(store.counts().nodes["Borrower"])
        return LinearScorer()

    res = evaluate_linkpred(path, splits=2, seed=0, sources=8,
                            scorers={"find": None, "walk": walk_only},
                            trainers={"trained": trainer},
                            find_kwargs={"max_hops": 3, "max_fanout": 500})
    assert seen == [34, 34]                          # called on each split's training store
    assert {"find", "walk", "trained"} <= set(res.method_names)
    for s in res.splits:
        assert s.methods["trained"] == s.methods["find"]   # same weights, same ego graphs
        assert set(s.find_ms_p50) == {"find", "walk", "trained"}
    with pytest.raises(SkiptraceError, match="used twice"):
        evaluate_linkpred(path, scorers={"ra": None})


def test_bad_arguments(tmp_path):
    path = graph_csv(nx.karate_club_graph(), tmp_path / "k.csv")
    for kw, msg in (({"hide": 0.0}, "hide"), ({"hide": 1.0}, "hide"), ({"splits": 0}, "splits"),
                    ({"mode": "later"}, "mode"), ({"mode": "temporal"}, "time column"),
                    ({"sources": 0}, "sources"), ({"cut": 5.0}, "temporal mode"),
                    ({"restart": 0.0}, "restart")):
        with pytest.raises(SkiptraceError, match=msg):
            evaluate_linkpred(path, **kw)


# -- a temporal example by hand ------------------------------------------------------------
TEMPORAL_ROWS = [
    # before the cut (t < 100)
    (1, 2, 10), (2, 1, 20), (1, 2, 30), (1, 3, 40), (2, 3, 50), (3, 4, 60), (4, 5, 70),
    # at or after it: a repeat (1-2), a new pair closing a triangle (1-4 over 3), a new pair
    # with a node never seen before (5-6)
    (1, 2, 100), (4, 1, 110), (5, 6, 120),
]


def test_temporal_split_by_hand(tmp_path):
    el = read_edges(write_csv(tmp_path / "t.csv", ["src", "dst", "time"], TEMPORAL_ROWS))
    sp = temporal_split(el, cut=100)
    idx = {x: i for i, x in enumerate(el.ids)}
    rel = {el.ids[s]: sorted(el.ids[v] for v in vs) for s, vs in sp.relevant.items()}
    assert rel == {"1": ["2", "4"], "2": ["1"], "4": ["1"], "5": ["6"], "6": ["5"]}
    pos = {el.ids[s]: sorted(el.ids[v] for v in vs) for s, vs in sp.positives.items()}
    assert pos == {"1": ["4"], "2": [], "4": ["1"], "5": ["6"], "6": ["5"]}
    assert sp.train.sum() == 7 and sp.as_of == "2026-01-01T00:01:40Z"
    g = TrainGraph.build(el, sp.train)
    b = baseline_scores(g, np.array([idx["1"]]), temporal=True)
    assert b["call_count"][0, idx["2"]] == 3 and b["call_count"][0, idx["3"]] == 1
    assert b["most_recent"][0, idx["3"]] > b["most_recent"][0, idx["2"]] > 0   # 40 after 30
    # count then RA: partners by count, then node 4 (common neighbour 3) above strangers
    ctr = b["count_then_ra"][0]
    assert ctr[idx["2"]] > ctr[idx["3"]] > ctr[idx["4"]] > ctr[idx["5"]] == 0
    # default cut: the 1 - hide quantile of event times
    assert temporal_split(el, hide=0.3).cut == pytest.approx(np.quantile(el.time, 0.7))


def test_temporal_pipeline_by_hand(tmp_path):
    path = write_csv(tmp_path / "t.csv", ["src", "dst", "time"], TEMPORAL_ROWS)
    res = evaluate_linkpred(path, mode="temporal", cut=100, splits=1, sources=None)
    s = res.splits[0]
    assert s.sources == 5 and s.as_of == "2026-01-01T00:01:40Z"
    assert set(s.methods) == {"find", *STATIC_BASELINES, *TEMPORAL_BASELINES}
    # call count, by hand (candidates: every node but the source; ties at random):
    # 1 -> partner 2 first (3 calls): 1; 2 -> partner 1 first: 1; 4 -> 1 sits in a tie of
    # 3 at 0 behind 3 and 5: 1/(2 + 2); 5 -> 6 in a tie of 4 behind 4: 1/(1 + 2.5);
    # 6 (no ties before the cut) -> 5 in a tie of all 5: 1/3
    want = (1 + 1 + 1 / 4 + 1 / 3.5 + 1 / 3) / 5
    assert s.methods["call_count"]["mrr"] == pytest.approx(want)
    assert s.cold_sources == 1                                  # node 6
    assert s.methods["call_count"]["mrr_warm"] == pytest.approx((1 + 1 + 1 / 4 + 1 / 3.5) / 4)
    # AUC on the new pairs only: call count scores every one of them 0, like a non-edge
    assert s.methods["call_count"]["auc"] == pytest.approx(0.5)
    for m, d in s.methods.items():
        assert all(0.0 <= v <= 1.0 for v in d.values()), (m, d)


# -- the CLI -------------------------------------------------------------------------------
def test_cli_json_and_table(tmp_path):
    from skiptrace_cli.main import cli

    path = graph_csv(nx.karate_club_graph(), tmp_path / "k.csv")
    r = CliRunner().invoke(cli, ["evaluate", "linkpred", str(path), "--splits", "2", "--sources",
                                 "5", "--seed", "2", "--format", "json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["mode"] == "random" and d["nodes"] == 34 and len(d["splits"]) == 2
    assert {"find", "ra", "adamic_adar", "cn", "jaccard", "ppr"} <= set(d["methods"])
    assert 0 <= d["methods"]["ra"]["auc"]["mean"] <= 1
    r = CliRunner().invoke(cli, ["evaluate", "linkpred", str(path), "--splits", "1",
                                 "--sources", "5"])
    assert r.exit_code == 0, r.output
    assert "find" in r.output and "auc" in r.output and "mrr" in r.output


def test_cli_temporal(tmp_path):
    from skiptrace_cli.main import cli

    path = write_csv(tmp_path / "t.csv", ["src", "dst", "time"], TEMPORAL_ROWS)
    r = CliRunner().invoke(cli, ["evaluate", "linkpred", str(path), "--mode", "temporal",
                                 "--cut", "100", "--splits", "1", "--format", "json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["splits"][0]["as_of"] == "2026-01-01T00:01:40Z" and "call_count" in d["methods"]


@pytest.mark.parametrize("args,needle", [
    (["missing.csv"], "no such file"),
    (["BAD"], "bad header"),
    (["GOOD", "--hide", "1.5"], "--hide"),
    (["GOOD", "--hide", "0"], "--hide"),
    (["GOOD", "--splits", "0"], "--splits"),
    (["GOOD", "--mode", "temporal"], "time column"),
])
def test_cli_bad_input_exits_2_with_one_line(tmp_path, args, needle):
    from skiptrace_cli.main import cli

    bad = write_csv(tmp_path / "bad.csv", ["a", "b"], [(1, 2)])
    good = write_csv(tmp_path / "good.csv", ["src", "dst"], [(1, 2), (2, 3), (3, 1), (3, 4)])
    args = [str(bad) if a == "BAD" else str(good) if a == "GOOD" else
            str(tmp_path / a) if a.endswith(".csv") else a for a in args]
    r = CliRunner().invoke(cli, ["evaluate", "linkpred", *args])
    assert r.exit_code == 2, r.output
    lines = [x for x in r.output.splitlines() if x.strip()]
    assert len(lines) == 1 and needle in lines[0], r.output
    assert "Traceback" not in r.output
