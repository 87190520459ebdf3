"""ONNX Runtime sessions for the serving path (onnxruntime and numpy only)."""

from __future__ import annotations

from dataclasses import dataclass

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


# The output holding a classifier's (rows, classes) probabilities in every exported graph.
PROBABILITY_OUTPUT = "probabilities"


@dataclass(frozen=True)
class OnnxProbability:
    """The positive-class probability of an exported binary classifier for each row of a float32 matrix:
    the trees a model scores with on the serving path (batch may swap in finscore.models.native's)."""

    session: ort.InferenceSession
    input_name: str

    @classmethod
    def from_bytes(cls, model_bytes: bytes) -> OnnxProbability:
        session = session_from_bytes(model_bytes)
        return cls(session, session.get_inputs()[0].name)

    def __call__(self, matrix: np.ndarray) -> np.ndarray:
        features = np.ascontiguousarray(matrix, dtype=np.float32)
        if not len(features):
            return np.empty(0)
        return self.session.run([PROBABILITY_OUTPUT], {self.input_name: features})[0][:, 1].astype(np.float64)
