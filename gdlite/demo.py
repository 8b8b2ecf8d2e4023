"""The main demo (`make demo`): fit a line by gradient descent, as the courses do.

The data are 60 points on y = -3x + 1 with a little noise; the slope and bias
start far off and move by hand-derived gradients of the mean squared error.
"""

import time

import gdlite as torch


def main() -> None:
    torch.manual_seed(0)
    X = torch.arange(-3, 3, 0.1).view(-1, 1)
    Y = -3 * X + 1 + 0.1 * torch.randn(X.shape)
    w, b, lr = torch.tensor(-10.0), torch.tensor(-5.0), 0.1
    start = time.perf_counter()
    for epoch in range(200):
        err = w * X + b - Y
        loss = (err**2).mean()
        grad_w, grad_b = 2 * (err * X).mean(), 2 * err.mean()
        w -= lr * grad_w
        b -= lr * grad_b
        if epoch % 40 == 0:
            print(f"epoch {epoch:3d}  loss {loss:.4f}  w {w:.4f}  b {b:.4f}")
    elapsed = time.perf_counter() - start
    print(f"fitted w = {w.item():.4f}, b = {b.item():.4f} (true -3, 1)")
    print(f"200 steps in {elapsed * 1e3:.1f} ms")
    print(torch.tensor([[1.0, 2.0], [3.0, 4.0]]) @ torch.ones(2, 1))


if __name__ == "__main__":
    main()
