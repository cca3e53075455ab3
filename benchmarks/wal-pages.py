#!/usr/bin/env python3
"""WAL pages written per LogRun by the embedded store's schema, for three kinds of run_id.

Every page a transaction changes is written to SQLite's WAL as a whole 4 KiB frame and fsynced, so the
number of distinct B-tree pages one LogRun dirties is what its durable write costs in I/O. This counts
them deterministically (no timing, so it is not disturbed by a busy machine): it copies the vertices and
edges tables with their indexes from a real data folder's schema, inserts LogRun's rows (3 vertices, 5
edges, as MetadataCore.logRun does) in group commits of 32, and measures how far the WAL grows.

    benchmarks/wal-pages.py --data-dir ./arangopipe-data     # any data folder the server has opened
    benchmarks/wal-pages.py --data-dir DIR --commits 300     # more history before measuring

run_id kinds: "bench" is LogRunBenchmark's client-chosen "r<nonce>-c32-<thread>-<n>" (32 clients, each
counting up), "uuid" a random UUID per run (MLflow's style), "ulid" what the server assigns when the
request has no run_id (time-ordered).
"""
import argparse
import os
import sqlite3
import tempfile
import time
import uuid


def schema(data_dir):
    db = os.path.join(data_dir, "arangopipe.db")
    if not os.path.exists(db):
        raise SystemExit(f"no arangopipe.db in {data_dir}: start the server once on that folder first")
    c = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    rows = c.execute("SELECT sql FROM sqlite_schema WHERE tbl_name IN ('vertices', 'edges') AND sql IS NOT NULL"
                     " ORDER BY type = 'index', name").fetchall()
    version = c.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
    c.close()
    return version, [r[0] for r in rows]


def ulid(i):
    return "01JAB%021d" % i


def measure(ddl, ids, commits, group=32):
    with tempfile.TemporaryDirectory() as tmp:
        f = os.path.join(tmp, "t.db")
        c = sqlite3.connect(f, isolation_level=None)
        c.execute("PRAGMA journal_mode = WAL")
        c.execute("PRAGMA wal_autocheckpoint = 0")
        c.execute("PRAGMA cache_size = -65536")
        for stmt in ddl:
            c.execute(stmt)
        seq = [0]
        per_thread = [0] * group

        def log_run(t):
            n = per_thread[t]
            per_thread[t] += 1
            seq[0] += 1
            rk = {"bench": f"rabc-c32-{t}-{n}", "uuid": uuid.uuid4().hex, "ulid": ulid(10**9 + 3 * seq[0])}[ids]
            p, d = ulid(3 * seq[0] + 1), ulid(3 * seq[0] + 2)
            now = int(time.time() * 1e6)
            run_doc = ('{"end_time":"2026-11-28T13:11:48.000000Z","git_commit":"4f2a9c1","run_id":"%s",'
                       '"start_time":"2026-11-28T13:07:18.000000Z","status":"COMPLETED","tag":"bench-sweep"}' % rk)
            c.execute("INSERT INTO vertices(collection, key, name, project, doc, create_time, update_time, creator)"
                      " VALUES (?,?,?,?,?,?,?,?), (?,?,?,?,?,?,?,?), (?,?,?,?,?,?,?,?)",
                      ("run", rk, None, "bench", run_doc, now, now, "anonymous",
                       "modelparams", p, None, "bench",
                       '{"alpha":0.001,"max_iter":1000,"l1_ratio":0.5,"max_depth":6,"run_id":"%s"}' % rk,
                       now, now, "anonymous",
                       "devperf", d, None, "bench", '{"rmse":0.31,"r2":0.81,"mae":0.22,"run_id":"%s"}' % rk,
                       now, now, "anonymous"))
            model = "01JMODELKEY%015d" % ((n + t) % 100)
            dataset, featureset = "01JDATASETKEY00000000000000", "01JFEATURESETKEY00000000000"
            edges = [("run_models", f"{model}-{rk}", f"models/{model}", f"run/{rk}"),
                     ("run_modelparams", f"{rk}-{p}", f"run/{rk}", f"modelparams/{p}"),
                     ("run_devperf", f"{rk}-{d}", f"run/{rk}", f"devperf/{d}"),
                     ("run_datasets", f"{rk}-{dataset}", f"run/{rk}", f"datasets/{dataset}"),
                     ("run_featuresets", f"{rk}-{featureset}", f"run/{rk}", f"featuresets/{featureset}")]
            args = []
            for coll, key, frm, to in edges:
                args += [coll, key, frm, to, "{}", now, "anonymous"]
            c.execute("INSERT INTO edges(collection, key, from_id, to_id, doc, create_time, creator) VALUES "
                      + ", ".join(["(?,?,?,?,?,?,?)"] * 5), args)

        def group_commits(k):
            for _ in range(k):
                c.execute("BEGIN IMMEDIATE")
                for t in range(group):
                    log_run(t)
                c.execute("COMMIT")

        group_commits(commits)  # history, so that the indexes have depth
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        measured = 100
        group_commits(measured)
        wal = os.path.getsize(f + "-wal")
        page = c.execute("PRAGMA page_size").fetchone()[0]
        db = os.path.getsize(f)
        c.close()
        frames = (wal - 32) / (page + 24)
        return frames / (measured * group), db / 1024 / ((commits + measured) * group)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", required=True, help="a data folder the server has opened (its schema is used)")
    ap.add_argument("--commits", type=int, default=300, help="group commits of 32 LogRuns before measuring")
    a = ap.parse_args()
    version, ddl = schema(a.data_dir)
    print(f"schema version {version}; {a.commits} group commits of 32 LogRuns, then 100 measured")
    print("| run_id | WAL pages per LogRun | database KiB per LogRun |")
    print("|---|---:|---:|")
    for ids in ("bench", "uuid", "ulid"):
        frames, kib = measure(ddl, ids, a.commits)
        print(f"| {ids} | {frames:.1f} | {kib:.2f} |")


if __name__ == "__main__":
    main()
