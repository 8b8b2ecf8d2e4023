"""The main demo (`make demo`): fit a line by gradient descent, as the courses do.

60 points on y = -3x + 1 with a little noise; the slope and bias start far
off and follow their gradients, computed by autograd, with updates made
under no_grad and the gradients zeroed after each step.
"""

import time

import gdlite as torch


def main() -> None:
    torch.manual_seed(0)
    X = torch.arange(-3, 3, 0.1).view(-1, 1)
    Y = -3 * X + 1 + 0.1 * torch.randn(X.shape)
    w = torch.tensor(-10.0, requires_grad=True)
    b = torch.tensor(-5.0, requires_grad=True)
    lr = 0.1
    start = time.perf_counter()
    for epoch in range(200):
        loss = ((w * X + b - Y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
        w.grad.zero_()
        b.grad.zero_()
        if epoch % 40 == 0:
            print(f"epoch {epoch:3d}  loss {loss:.4f}  w {w:.4f}  b {b:.4f}")
    elapsed = time.perf_counter() - start
    print(f"fitted w = {w.item():.4f}, b = {b.item():.4f} (true -3, 1)")
    print(f"200 steps in {elapsed * 1e3:.1f} ms")
    print(loss)


if __name__ == "__main__":
    main()
