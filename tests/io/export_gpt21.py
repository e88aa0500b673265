#!/usr/bin/env python3
"""Runs a sequence network that typegrad exported (tests/io/test_onnx_gpt21.cpp) on the test's
examples, independently of typegrad, and prints its outputs: one line per evaluator, its name then
every output of every example flattened (float64 repr), for the C++ test to compare with
typegrad's forward pass.

    export_gpt21.py onnx MODEL.onnx X.f64 B
        onnx.checker (full_check: with shape inference) validates the model, then it is run by
        every evaluator found: onnxruntime, ONNX's reference evaluator (onnx.reference, ONNX ≥ 1.13)
        and — always — the numpy interpreter of tests/cli/onnx_reference.py (float64).
    export_gpt21.py torch SCRIPTS_DIR NET.npz X.f64 B
        scripts/npz_to_torch.py rebuilds the network from the .npz alone; printed as "torch ...".

X.f64: B examples of the network's input (token ids, or a sequence (T, D)), raw float64, cast to
the model's element type. Exit 3 when onnx and numpy (or torch) cannot be imported."""
import sys
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in the source tree for the modules imported below

try:
    import numpy as np
except ImportError as e:  # pragma: no cover
    print(f"export_gpt21.py: cannot import numpy ({e})", file=sys.stderr)
    sys.exit(3)


def emit(name, y):
    print(name, " ".join(repr(float(v)) for v in np.asarray(y, dtype=np.float64).reshape(-1)))


def run_onnx(model_path, x_path, batch):
    try:
        import onnx
        from onnx import numpy_helper  # noqa: F401
    except ImportError as e:  # pragma: no cover
        print(f"export_gpt21.py: cannot import onnx ({e}); install python3-onnx", file=sys.stderr)
        sys.exit(3)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "cli"))
    import onnx_reference  # the numpy interpreter of the CLI's ONNX test

    model = onnx.load(model_path)
    onnx.checker.check_model(model, full_check=True)
    (inp,) = model.graph.input
    dims = [d.dim_value for d in inp.type.tensor_type.shape.dim[1:]]
    dtype = np.float64 if inp.type.tensor_type.elem_type == onnx.TensorProto.DOUBLE else np.float32
    x = np.fromfile(x_path, dtype="<f8").reshape([batch] + dims)
    try:
        import onnxruntime
        from onnxruntime.capi.onnxruntime_pybind11_state import NotImplemented as NotInRuntime
        try:
            session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
            emit("onnxruntime", session.run(None, {inp.name: x.astype(dtype)})[0])
        except NotInRuntime as e:  # a kernel the runtime lacks for this type (its CPU Erf is float32 only)
            print(f"export_gpt21.py: onnxruntime has no kernel for this model, not run: {e}", file=sys.stderr)
    except ImportError:
        pass
    try:
        from onnx.reference import ReferenceEvaluator
        emit("onnx.reference", ReferenceEvaluator(model).run(None, {inp.name: x.astype(dtype)})[0])
    except ImportError:
        pass
    # float64 on the model's initializers, the input rounded to the model's type first
    emit("onnx_reference.py", onnx_reference.run(model, x.astype(dtype).astype(np.float64)))


def run_torch(scripts, npz_path, x_path, batch):
    sys.path.insert(0, scripts)
    try:
        import torch
        import npz_to_torch
    except (ImportError, SystemExit) as e:  # pragma: no cover
        print(f"export_gpt21.py: cannot import torch ({e}); install python3-torch", file=sys.stderr)
        sys.exit(3)
    model, arch, dtype = npz_to_torch.load(npz_path)
    x = torch.from_numpy(np.fromfile(x_path, dtype="<f8").reshape([batch] + arch["input"]).copy()).to(dtype)
    with torch.no_grad():
        emit("torch", model(x).numpy())


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "onnx":
        run_onnx(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif len(sys.argv) == 6 and sys.argv[1] == "torch":
        run_torch(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
