"""ONNX export and the parity measurements, one way per algorithm family (XGBoost, LightGBM, scikit-learn).

Every trainer exports through `to_onnx` and measures parity through `probability_differences`, so
the converter options that decide what the serving graph outputs (probabilities as a plain tensor,
no ZipMap) are chosen once. Each product keeps its own parity rule (how much difference it
accepts); this module only measures.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import onnx

from finscore.models.onnx import PROBABILITY_OUTPUT, session_from_bytes

ONNX_INPUT = "features"
LABEL_OUTPUT = "label"
# Opsets the converters and the serving onnxruntime agree on.
TREE_OPSET = 15
SKLEARN_OPSETS = {"": 17, "ai.onnx.ml": 3}


def family(model: Any) -> str:
    """xgboost | lightgbm | sklearn, by the model's class."""
    module = type(model).__module__
    if module.startswith("xgboost"):
        return "xgboost"
    if module.startswith("lightgbm"):
        return "lightgbm"
    if module.startswith("sklearn"):
        return "sklearn"
    raise TypeError(f"No ONNX export for {type(model).__name__} ({module})")


def to_onnx(model: Any, features: int) -> onnx.ModelProto:
    """MODEL (fitted) as an ONNX graph over a float32 input of FEATURES columns named ONNX_INPUT.

    Classifiers output PROBABILITY_OUTPUT as a (rows, classes) tensor and LABEL_OUTPUT.
    """
    kind = family(model)
    if kind == "sklearn":
        from skl2onnx import convert_sklearn
        from skl2onnx.common.data_types import FloatTensorType as SklearnFloat

        # A pipeline ending in a classifier takes the option under its own id, as a bare classifier does.
        options = {id(model): {"zipmap": False}} if hasattr(model, "predict_proba") else None
        graph = convert_sklearn(model, initial_types=[(ONNX_INPUT, SklearnFloat([None, features]))],
                                target_opset=SKLEARN_OPSETS, options=options)
    else:
        from onnxmltools import convert_lightgbm, convert_xgboost
        from onnxmltools.convert.common.data_types import FloatTensorType

        inputs = [(ONNX_INPUT, FloatTensorType([None, features]))]
        graph = convert_xgboost(model, initial_types=inputs, target_opset=TREE_OPSET) if kind == "xgboost" \
            else convert_lightgbm(model, initial_types=inputs, target_opset=TREE_OPSET, zipmap=False)
    outputs = [output.name for output in graph.graph.output]
    if hasattr(model, "predict_proba") and PROBABILITY_OUTPUT not in outputs:
        raise RuntimeError(f"The ONNX export of {type(model).__name__} has outputs {outputs}, not "
                           f"{PROBABILITY_OUTPUT!r}")
    return graph


def onnx_outputs(onnx_bytes: bytes, matrix: np.ndarray, names: list[str]) -> list[np.ndarray]:
    """The named outputs of the serving runtime on MATRIX."""
    session = session_from_bytes(onnx_bytes)
    return session.run(names, {session.get_inputs()[0].name: np.ascontiguousarray(matrix, dtype=np.float32)})


def probability_differences(onnx_bytes: bytes, native_probabilities: Callable[[np.ndarray], np.ndarray],
                            matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row, the largest |ONNX - native| class probability, and both probability matrices."""
    onnx_probabilities = onnx_outputs(onnx_bytes, matrix, [PROBABILITY_OUTPUT])[0].astype(np.float64)
    native = np.asarray(native_probabilities(matrix), dtype=np.float64)
    if len(matrix) == 0:
        return np.empty(0), onnx_probabilities, native
    return np.abs(onnx_probabilities - native).max(axis=1), onnx_probabilities, native
