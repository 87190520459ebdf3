"""ONNX Runtime sessions for the serving path (onnxruntime and numpy only)."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort


def session_from_bytes(model_bytes: bytes) -> ort.InferenceSession:
    options = ort.SessionOptions()
    # One request at a time per execution environment: extra threads only add scheduling cost.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(model_bytes, sess_options=options, providers=["CPUExecutionProvider"])


def run(session: ort.InferenceSession, features: np.ndarray) -> list[np.ndarray]:
    """Run SESSION on a float32 matrix; returns every output in declared order."""
    name = session.get_inputs()[0].name
    return session.run(None, {name: np.ascontiguousarray(features, dtype=np.float32)})
