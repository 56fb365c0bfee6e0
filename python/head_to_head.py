"""The Python side of `workbook compare`: each task as a Python data scientist writes it, timed on
the same files the Rust side reads.

    pip install -r python/requirements.txt
    python3 python/head_to_head.py versions
    python3 python/head_to_head.py run TASK --data DIR [--repeats N] [--threads T]

`workbook compare` writes the inputs (the Rust binary's `prepare`), then runs both sides. `run`
prints one line of JSON: the library and settings, the thread count, every timed run in seconds
(after one untimed run) and the numbers the parity check compares, named as the Rust side names
them. The thread count reaches every pool: OpenBLAS and OpenMP (set before NumPy loads), polars
(POLARS_MAX_THREADS, read when polars loads) and scikit-learn's n_jobs.
"""

import argparse
import json
import os
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent


def requirements():
    """The pinned packages of requirements.txt, the one list of them: name → version."""
    pins = {}
    for line in (ROOT / "python" / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            pins[name.strip()] = version.strip()
    return pins


def limit_threads(threads):
    # Before NumPy, scikit-learn or polars is imported: each reads its variable once, at load.
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "POLARS_MAX_THREADS"):
        os.environ[variable] = str(threads)


def timed(repeats, work):
    answer = work()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        answer = work()
        seconds.append(time.perf_counter() - start)
    return seconds, answer


def classes(data):
    import numpy as np

    return (
        np.load(data / "classes_train_x.npy"),
        np.load(data / "classes_train_y.npy"),
        np.load(data / "classes_test_x.npy"),
        np.load(data / "classes_test_y.npy"),
    )


def random_forest(data, repeats, threads):
    from sklearn.ensemble import RandomForestClassifier

    x, y, x_test, y_test = classes(data)
    model = RandomForestClassifier(n_estimators=100, n_jobs=threads, random_state=1)
    seconds, model = timed(repeats, lambda: model.fit(x, y))
    leaves = sum(t.get_n_leaves() for t in model.estimators_) / len(model.estimators_)
    return (
        "scikit-learn RandomForestClassifier(n_jobs)",
        seconds,
        {"accuracy": float(model.score(x_test, y_test)), "leaves_per_tree": float(leaves)},
    )


def gradient_boosting(data, repeats, threads):
    from sklearn.ensemble import HistGradientBoostingClassifier

    x, y, x_test, y_test = classes(data)
    # The Rust side's settings: depth 5 grown fully (no leaf cap), 20 rows a leaf, no L2, no
    # early stopping, 255 bins.
    model = HistGradientBoostingClassifier(
        max_iter=100,
        learning_rate=0.1,
        max_depth=5,
        max_leaf_nodes=None,
        min_samples_leaf=20,
        l2_regularization=0.0,
        max_bins=255,
        early_stopping=False,
        random_state=1,
    )
    seconds, model = timed(repeats, lambda: model.fit(x, y))
    return "scikit-learn HistGradientBoostingClassifier", seconds, {"accuracy": float(model.score(x_test, y_test))}


def logistic_regression(data, repeats, threads):
    from sklearn.linear_model import LogisticRegression

    x, y, x_test, y_test = classes(data)
    model = LogisticRegression(C=1.0)
    seconds, model = timed(repeats, lambda: model.fit(x, y))
    return (
        "scikit-learn LogisticRegression (lbfgs)",
        seconds,
        {"accuracy": float(model.score(x_test, y_test)), "iterations": float(model.n_iter_[0])},
    )


def kmeans(data, repeats, threads):
    import numpy as np
    from sklearn.cluster import KMeans

    x = np.load(data / "blobs_x.npy")
    start = np.load(data / "blobs_start.npy")
    model = KMeans(n_clusters=8, init=start, n_init=1, max_iter=300, tol=1e-4)
    seconds, model = timed(repeats, lambda: model.fit(x))
    return "scikit-learn KMeans (Lloyd)", seconds, {"inertia": float(model.inertia_), "iterations": float(model.n_iter_)}


def pca(data, repeats, threads):
    import numpy as np
    from sklearn.decomposition import PCA

    x = np.load(data / "blobs_x.npy")
    model = PCA(n_components=10)
    seconds, model = timed(repeats, lambda: model.fit(x))
    shares = model.explained_variance_ratio_
    return (
        f"scikit-learn PCA (svd_solver: {model._fit_svd_solver})",
        seconds,
        {"first_share": float(shares[0]), "top3_share": float(shares[:3].sum())},
    )


def flights():
    import polars as pl

    # One contiguous chunk per column, as the Rust side reads it (`lessons_frames::frame`).
    return pl.read_parquet(ROOT / "datasets" / "nycflights13_flights.parquet", rechunk=True)


def groupby(data, repeats, threads):
    import polars as pl

    table = flights()

    def query():
        return (
            table.lazy()
            .group_by("carrier", "month")
            .agg(
                pl.len().alias("flights"),
                pl.col("dep_delay").mean().alias("mean_dep_delay"),
                (pl.col("dep_delay") > 15).mean().alias("share_delayed_15"),
                pl.col("arr_delay").max().alias("max_arr_delay"),
                pl.col("dep_delay").null_count().alias("cancelled"),
            )
            .sort("carrier", "month")
            .collect()
        )

    seconds, out = timed(repeats, query)
    return (
        f"polars {pl.__version__} (lazy)",
        seconds,
        {
            "groups": float(out.height),
            "cancelled": float(out["cancelled"].sum()),
            "delay_checksum": float(out["mean_dep_delay"].sum() + out["max_arr_delay"].sum()),
        },
    )


def join(data, repeats, threads):
    import polars as pl

    table = flights()
    planes = pl.read_csv(
        ROOT / "datasets" / "nycflights13_planes.csv", null_values="NA", infer_schema_length=None, rechunk=True
    )

    def query():
        return table.lazy().join(planes.lazy(), on="tailnum", how="left", suffix="_plane").collect()

    seconds, out = timed(repeats, query)
    return (
        f"polars {pl.__version__} (lazy)",
        seconds,
        {"rows": float(out.height), "matched": float(out.height - out["year_plane"].null_count())},
    )


def elementwise(data, repeats, threads):
    import numpy as np

    x = np.load(data / "elementwise_x.npy")
    seconds, y = timed(repeats, lambda: 2.0 * x + 1.0)
    return "NumPy: 2.0 * x + 1.0", seconds, {"sum": float(y.sum())}


def matmul(data, repeats, threads):
    import numpy as np

    a = np.load(data / "matmul_a.npy")
    b = np.load(data / "matmul_b.npy")
    seconds, c = timed(repeats, lambda: a @ b)
    return f"NumPy a @ b ({blas_name()}, {threads} threads)", seconds, {"frobenius": float(np.linalg.norm(c))}


def blas_name():
    import numpy as np

    config = np.show_config(mode="dicts")
    return config.get("Build Dependencies", {}).get("blas", {}).get("name", "BLAS")


TASKS = {f.__name__: f for f in (random_forest, gradient_boosting, logistic_regression, kmeans, pca, groupby, join, elementwise, matmul)}


def versions():
    """The installed version of each required package, or what to install when one is missing."""
    from importlib import metadata

    found, missing = {}, []
    for package, wanted in requirements().items():
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            missing.append(f"{package}=={wanted}")
    found["python"] = sys.version.split()[0]
    return found, missing


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("versions", help="installed versions as JSON; exit 3 when a package is missing")
    commands.add_parser("tasks", help="the task names this side knows, as JSON")
    run = commands.add_parser("run", help="time one task and print its outcome as JSON")
    run.add_argument("task", choices=sorted(TASKS))
    run.add_argument("--data", type=pathlib.Path, required=True)
    run.add_argument("--repeats", type=int, default=5)
    run.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if args.command == "versions":
        found, missing = versions()
        print(json.dumps({"versions": found, "missing": missing}))
        sys.exit(3 if missing else 0)
    if args.command == "tasks":
        print(json.dumps(sorted(TASKS)))
        return
    if args.repeats < 1 or args.threads < 1:
        parser.error("--repeats and --threads must be at least 1")
    limit_threads(args.threads)
    tool, seconds, metrics = TASKS[args.task](args.data, args.repeats, args.threads)
    print(json.dumps({"task": args.task, "tool": tool, "threads": args.threads, "seconds": seconds, "metrics": metrics}))


if __name__ == "__main__":
    main()
