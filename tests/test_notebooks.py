"""Execute every notebook in notebooks/ and check what it produced.

The notebooks check their own numbers: each `# Check:` cell recomputes the
results independently (NumPy, closed forms, values computed with PyTorch) and
raises if gdlite got them wrong, so a wrong number makes the execution below
fail. This file also checks that the notebooks are stored executed (a reader
sees every output and figure without running anything) and that the expected
text and figures come out of a fresh run.
"""

import importlib.util
import json
from pathlib import Path

import nbformat
import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
_spec = importlib.util.spec_from_file_location(
    "execute_notebooks", NOTEBOOK_DIR / "execute.py"
)
execute_notebooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(execute_notebooks)
NOTEBOOKS = execute_notebooks.notebooks()

# Text each notebook must print (exact substrings of its stdout) and the
# least number of figures (PNG images) it must display.
EXPECTED = {
    "01_tensors.ipynb": {
        "stdout": [
            "type() of the integer tensor: gdlite.LongTensor",
            "standard deviation: tensor(1.1547)",
            "dot(u, v) = tensor(7)",
            "tensor([[0, 2],\n        [0, 2]])",
            "tensor([[ 58,  64],\n        [139, 154]])",
            "copied.numpy() after copied.add_(1): [2. 3. 4.]",
            "dtype: gdlite.int64  shape: gdlite.Size([3, 2])",
        ],
        "figures": 1,
    },
    "02_derivatives_and_gradient_descent.ipynb": {
        "stdout": [
            "dy/dx at x = 2: tensor(4.)",
            "sum of the ReLU derivatives: tensor(50.)",
            "gradient: tensor([ 0.,  4.,  8., 12.])",
            "eta 0.2: epoch 10, x: 0.060466",
            "epoch 20, x1: -0.057646, x2: -0.000073",
            "after 100 epochs: w  -2.99",
            "its inputs come from: ['MulBackward0', 'PowBackward0']",
        ],
        "figures": 6,
    },
    "09_linear_regression_d2l.ipynb": {
        "stdout": [
            "first example: tensor([-1.1258, -1.1524]) label: tensor([5.8655])",
            "mini-batches per epoch: 100",
            "epoch 3, loss 0.000047",
            "error in estimating b: tensor([0.0009], grad_fn=<RsubBackward1>)",
            "epoch 3, loss 0.000093",
            "error in estimating w: tensor([-0.0005, -0.0002])",
            "largest difference between the two paths:",
        ],
        "figures": 3,
    },
    "10_classification_digits.ipynb": {
        "stdout": [
            "images per digit: [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]",
            "loss: 0.6931 at the start, 0.1839 after 200 steps",
            "training accuracy: 0.936",
            "training images: 1347  test images: 450",
            "test loss  0.1025, test accuracy  0.9778",
            "10 of 450 test images are misclassified",
        ],
        "figures": 4,
    },
    "07_sigmoid_neuron_optimizers.ipynb": {
        "stdout": [
            "optimum: w* = 1.791759, b* = -2.282174",
            "gradient at the start: dw -0.0054923, db -0.0077112",
            "Nesterov   (-1.73430, -1.64924)",  # the lecture's look-ahead form
            "Nesterov   (-1.69096, -1.59533)",  # torch.optim.SGD(nesterov=True)
            "largest difference from the hand-written momentum: 0.0",
            "RMSprop: lecture with eps outside the root vs torch.optim:",
        ],
        "figures": 4,
    },
    "08_optimizer_paths_animated.ipynb": {
        "stdout": [
            "first training point: tensor([0.7713]) tensor([2.4745])",
            "('linear.weight', tensor([[0.7645]])), ('linear.bias', tensor([0.8300]))",
            "least squares: b = 1.0235, w = 1.9690",
            "SGD + Nesterov  after 60 steps: b = 1.0362, w = 1.9442",
        ],
        "figures": 2,
    },
    "12_handoff_to_pytorch.ipynb": {
        "stdout": [
            "gdlite, after 50 steps: loss 0.011605",
            "largest difference between the curves: 0.0e+00",
            "the run continued in gdlite ends where PyTorch alone ends",
        ],
        "figures": 1,
    },
    "11_fastai_sgd.ipynb": {
        "stdout": [
            "first targets: tensor([4.4538, 4.6358, 1.5639, 4.6433, 1.1730])",
            "loss of the guess (-1, 1): tensor(6.6463)",
            "tensor(1.3102, grad_fn=<MeanBackward0>)",
            "tensor(0.0415, grad_fn=<MeanBackward0>)",
            "tensor([2.9391, 2.0001], requires_grad=True)",
        ],
        "figures": 3,
    },
    "03_datasets_and_transforms.ipynb": {
        "stdout": [
            "our_dataset[0]: (tensor([2., 2.]), tensor([1.]))",
            "add_mult then mult: x: tensor([300., 300.]) ; y: tensor([200.])",
            "mult then add_mult: x: tensor([201., 201.]) ; y: tensor([200.])",
            "my_add_mult: x: tensor([40., 40.]) ; y: tensor([30.])",
            "sizes of all batches: [16, 16, 16, 16, 16, 16, 4]",
            "sizes: 80 20",
        ],
        "figures": 2,
    },
    "04_linear_regression.ipynb": {
        "stdout": [
            "the predictions at x = 1 and x = 2: tensor([[1.],\n        [3.]]",
            "tensor([[0.5153]], requires_grad=True)",
            "predictions: tensor([[0.0739],\n        [0.5891]]",
            "iteration 3: loss   0.608797, new w -3.17204",
            "after 15 iterations: w   0.9981, b  -1.3535",
            "nn.Linear after 15 steps: w 0.9981, b -1.3535",
        ],
        "figures": 4,
    },
    "05_batch_stochastic_minibatch.ipynb": {
        "stdout": [
            "batch         :  10 iterations, w 0.9795, b -2.0316",
            "stochastic    : 600 iterations, w 1.0554, b -1.0210",
            "mini-batch 5  : 120 iterations, w 0.9961, b -1.0094",
            "mini-batch 10 :  60 iterations, w 0.9927, b -1.0173",
            "stochastic, shuffled: w 1.0540, b -1.0422",
        ],
        "figures": 4,
    },
    "06_learning_rates_and_scaling.ipynb": {
        "stdout": [
            "loss: 2.742157770055",
            "after one step with lr 0.1: b 0.80119529",
            "good (0.4)       : b      1.057, w      1.904, loss 0.008442",
            "diverging (1.1)  : b -1.051e+12",
            "divergence above lr = 0.806",
            "standardised x  lr 0.5000: within 1% of the minimum after   1 step(s)",
        ],
        "figures": 4,
    },
}


@pytest.fixture(scope="module")
def kernel_for_this_python():
    with execute_notebooks.kernel_for_this_python():
        yield


def _outputs(nb):
    return [
        out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs
    ]


def test_notebooks_found():
    assert {path.name for path in NOTEBOOKS} >= set(EXPECTED)


def _stdout(outputs):
    return "".join(
        out.text
        for out in outputs
        if out.output_type == "stream" and out.name == "stdout"
    )


def _figures(outputs):
    return [
        out
        for out in outputs
        if out.output_type in ("display_data", "execute_result")
        and "image/png" in out.data
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_stored_executed(path):
    raw = json.loads(path.read_text(encoding="utf-8"))
    nb = nbformat.reads(json.dumps(raw), as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == execute_notebooks.KERNEL_NAME
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    counts = [cell.execution_count for cell in code]
    assert None not in counts, f"{path.name}: stored with unexecuted cells"
    assert counts == list(range(1, len(code) + 1)), f"{path.name}: not run in order"
    outputs = _outputs(nb)
    assert not [out for out in outputs if out.output_type == "error"]
    expected = EXPECTED.get(path.name, {"stdout": [], "figures": 0})
    assert len(_figures(outputs)) >= expected["figures"], "figures not stored"
    for text in expected["stdout"]:
        assert text in _stdout(outputs), f"{path.name}: {text!r} not stored"
    sources = [cell.source for cell in code]
    assert any(src.startswith("# Check:") for src in sources), "no check cells"
    assert any("import gdlite as torch" in src for src in sources)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_runs(path, kernel_for_this_python):
    nb = execute_notebooks.execute(path)
    outputs = _outputs(nb)
    assert not [out for out in outputs if out.output_type == "error"]
    stdout = _stdout(outputs)
    figures = _figures(outputs)
    expected = EXPECTED.get(path.name, {"stdout": [], "figures": 0})
    assert stdout or figures, f"{path.name} printed and displayed nothing"
    for text in expected["stdout"]:
        assert text in stdout, f"{path.name}: {text!r} not printed"
    assert len(figures) >= expected["figures"], f"{path.name}: too few figures"
