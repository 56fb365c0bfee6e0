"""Exports the three scikit-learn models the model_serialization lesson runs in Rust.

Trains a logistic regression and a small multi-layer perceptron (each behind a StandardScaler)
and a random forest (on the raw values: a tree needs no scaling), plus the same forest behind a
scaler to show how a step function meets float32 rounding, on the four measurements of the complete birds in datasets/penguins.csv, exports
each pipeline to ONNX with skl2onnx (the scaler as standard operators), and records onnxruntime's class probabilities for the held-out
birds, so the lesson can compare tract's answers with onnxruntime's without Python.

    pip install scikit-learn==1.9.1 skl2onnx==1.20.0 onnxruntime==1.32.0
    python3 python/export_onnx.py          # from the repository root

Writes datasets/onnx/penguins_{logistic,forest,forest_scaled,mlp}.onnx and
datasets/onnx/reference.json.
"""

import csv
import json
import pathlib

import numpy as np
import onnxruntime
import sklearn
import skl2onnx
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

ROOT = pathlib.Path(__file__).resolve().parent.parent
FEATURES = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]


def load():
    rows, labels = [], []
    with open(ROOT / "datasets" / "penguins.csv", newline="") as f:
        for record in csv.DictReader(f):
            if all(record[c] not in ("", "NA") for c in FEATURES):
                rows.append([float(record[c]) for c in FEATURES])
                labels.append(record["species"])
    classes = sorted(set(labels))
    return np.array(rows, dtype=np.float32), np.array([classes.index(l) for l in labels]), classes


def main():
    x, y, classes = load()
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.25, random_state=7, stratify=y
    )
    forest = dict(n_estimators=25, max_depth=6, random_state=7)
    models = {
        "logistic": (True, LogisticRegression(max_iter=1000)),
        "forest": (False, RandomForestClassifier(**forest)),
        "forest_scaled": (True, RandomForestClassifier(**forest)),
        "mlp": (True, MLPClassifier(hidden_layer_sizes=(16,), max_iter=3000, random_state=7)),
    }
    out = ROOT / "datasets" / "onnx"
    out.mkdir(parents=True, exist_ok=True)
    reference = {
        "features": FEATURES,
        "classes": classes,
        "inputs": x_test.tolist(),
        "labels": y_test.tolist(),
        "versions": {
            "scikit-learn": sklearn.__version__,
            "skl2onnx": skl2onnx.__version__,
            "onnxruntime": onnxruntime.__version__,
        },
        "models": {},
    }
    for name, (scaled, model) in models.items():
        steps = [StandardScaler(), model] if scaled else [model]
        pipeline = make_pipeline(*steps).fit(x_train, y_train)
        onnx = convert_sklearn(
            pipeline,
            initial_types=[("input", FloatTensorType([None, len(FEATURES)]))],
            # The scaler as standard Sub and Div operators: tract has no ai.onnx.ml Scaler.
            options={StandardScaler: {"div": "div"}, id(model): {"zipmap": False}},
            target_opset=17,
        )
        path = out / f"penguins_{name}.onnx"
        path.write_bytes(onnx.SerializeToString())
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        labels, probabilities = session.run(None, {"input": x_test})
        reference["models"][name] = {
            "file": path.name,
            "scaled": scaled,
            "sklearn_probabilities": pipeline.predict_proba(x_test).tolist(),
            "onnxruntime_probabilities": probabilities.astype(float).tolist(),
            "onnxruntime_labels": labels.tolist(),
            "test_accuracy": float((labels == y_test).mean()),
        }
        print(f"{name}: {path.stat().st_size} bytes, test accuracy {reference['models'][name]['test_accuracy']:.3f}")
    (out / "reference.json").write_text(json.dumps(reference) + "\n")


if __name__ == "__main__":
    main()
