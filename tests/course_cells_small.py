"""fast.ai lesson 2 (and the 2022 course's quadratic), the CS6910 sigmoid
neuron, and the courses' printing habits, as course cells; see
course_cells.py."""

# ruff: noqa: E501 - the courses' own lines, kept as written

from course_cells import cell

# fmt: off

# ---- fast.ai lesson 2 "SGD" ---------------------------------------------

LESSON2 = """
    import torch
    from torch import nn
    def tensor(x, *rest): return torch.tensor([x, *rest] if rest else x)  # fastai's
    n=100
    x = torch.ones(n,2)
    x[:,0].uniform_(-1.,1)
    a = tensor([3.,2])
    y = x@a + 0.25*torch.randn(n)
    def mse(y_hat, y): return ((y_hat-y)**2).mean()
"""

cell("fastai", "lesson2_data", LESSON2 + """
    print(x[:5])
    print(a)
    print(y[:5])
    a = tensor([-1.,1])
    y_hat = x@a
    print(mse(y_hat, y))
""")

cell("fastai", "lesson2_sgd", LESSON2 + """
    a = nn.Parameter(tensor(-1.,1)); a
    print(a)
    def update():
        y_hat = x@a
        loss = mse(y, y_hat)
        if t % 10 == 0: print(loss)
        loss.backward()
        with torch.no_grad():
            a.sub_(lr * a.grad)
            a.grad.zero_()
    lr = 1e-1
    for t in range(100): update()
    print(a)
    print((x@a.detach())[:3])
""")

cell("fastai", "quadratic", """
    import numpy as np
    import torch
    from functools import partial
    def f(x): return 3*x**2 + 2*x + 1
    def quad(a, b, c, x): return a*x**2 + b*x + c
    def mk_quad(a, b, c): return partial(quad, a, b, c)
    def noise(x, scale): return np.random.normal(scale=scale, size=x.shape)
    def add_noise(x, mult, add): return x * (1+noise(x,mult)) + noise(x,add)
    np.random.seed(42)
    x = torch.linspace(-2, 2, steps=20)[:,None]
    y = add_noise(f(x), 0.15, 1.5)
    print(x[:5], y[:5])
    def mae(preds, acts): return (torch.abs(preds-acts)).mean()
    def quad_mae(params):
        f = mk_quad(*params)
        return mae(f(x), y)
    abc = torch.tensor([1.1,1.1,1.1])
    abc.requires_grad_()
    loss = quad_mae(abc)
    print(loss)
    loss.backward()
    print(abc.grad)
    with torch.no_grad():
        abc -= abc.grad*0.01
        loss = quad_mae(abc)
    print(f'loss={loss:.2f}')
    for i in range(10):
        loss = quad_mae(abc)
        loss.backward()
        with torch.no_grad(): abc -= abc.grad*0.01
        print(f'step={i}; loss={loss:.2f}')
    print(abc, abc.grad)
""")

cell("fastai", "relu_and_clip", """
    import torch
    import torch.nn.functional as F
    def rectified_linear(m,b,x):
        y = m*x+b
        return torch.clip(y, 0.)
    x = torch.linspace(-2.1, 2.1, steps=8)
    print(rectified_linear(1, 1, x))
    print(F.relu(x), torch.relu(x))
    def double_relu(m1,b1,m2,b2,x):
        return rectified_linear(m1,b1,x) + rectified_linear(m2,b2,x)
    print(double_relu(1, 1, -1, 1, x))
""")

# ---- CS6910 / CS7015: the sigmoid neuron on two points ------------------

NEURON = """
    import torch
    X = torch.tensor([0.5, 2.5])
    Y = torch.tensor([0.2, 0.9])
    def f(w, b, x):
        return 1.0 / (1.0 + torch.exp(-(w*x + b)))
    def error(w, b):
        return (0.5 * (f(w, b, X) - Y) ** 2).sum()
"""

cell("cs6910", "gradient_descent_by_hand", NEURON + """
    def grad_w(w, b, x, y):
        fx = f(w, b, x)
        return (fx - y) * fx * (1 - fx) * x
    def grad_b(w, b, x, y):
        fx = f(w, b, x)
        return (fx - y) * fx * (1 - fx)
    def do_gradient_descent():
        w, b, eta, max_epochs = torch.tensor(-2.0), torch.tensor(-2.0), 1.0, 100
        for i in range(max_epochs):
            dw, db = 0, 0
            for x, y in zip(X, Y):
                dw += grad_w(w, b, x, y)
                db += grad_b(w, b, x, y)
            w = w - eta * dw
            b = b - eta * db
            if i % 25 == 0:
                print(i, w, b, error(w, b))
        return w, b
    print(do_gradient_descent())
""")

cell("cs6910", "gradient_descent_autograd", NEURON + """
    w = torch.tensor(-2.0, requires_grad=True)
    b = torch.tensor(-2.0, requires_grad=True)
    eta = 1.0
    for i in range(100):
        loss = error(w, b)
        loss.backward()
        with torch.no_grad():
            w -= eta * w.grad
            b -= eta * b.grad
        w.grad.zero_()
        b.grad.zero_()
        if i in (0, 9, 99):
            print(i + 1, w, b, loss)
""")

cell("cs6910", "momentum_and_nesterov", NEURON + """
    for nesterov in (False, True):
        w = torch.tensor(-2.0, requires_grad=True)
        b = torch.tensor(-2.0, requires_grad=True)
        opt = torch.optim.SGD([w, b], lr=1.0, momentum=0.9, nesterov=nesterov)
        for i in range(100):
            opt.zero_grad()
            error(w, b).backward()
            opt.step()
            if i in (0, 9, 99):
                print(nesterov, i + 1, w.item(), b.item())
""")

cell("cs6910", "adaptive_optimizers", NEURON + """
    import torch.optim as optim
    makers = {'adagrad': lambda p: optim.Adagrad(p, lr=0.1),
              'rmsprop': lambda p: optim.RMSprop(p, lr=0.1, alpha=0.9, eps=1e-8),
              'adam': lambda p: optim.Adam(p, lr=0.1)}
    for name, make in makers.items():
        w = torch.tensor(-2.0, requires_grad=True)
        b = torch.tensor(-2.0, requires_grad=True)
        opt = make([w, b])
        for i in range(100):
            opt.zero_grad()
            loss = error(w, b)
            loss.backward()
            opt.step()
        print(f'{name}: w={w.item():.6f} b={b.item():.6f} loss={loss:.6f}')
""")

cell("cs6910", "error_surface", NEURON + """
    W = torch.linspace(-6, 6, 5)
    B = torch.linspace(-6, 6, 5)
    WW, BB = torch.meshgrid(W, B, indexing='ij')
    Z = torch.zeros_like(WW)
    for i in range(len(W)):
        for j in range(len(B)):
            Z[i, j] = error(WW[i, j], BB[i, j])
    print(Z)
    print(Z.argmin(), Z.min())
""")

# ---- printing, as the courses print -------------------------------------

cell("printing", "dtypes_and_devices", """
    import torch
    print(torch.tensor([1.5, 2.25], dtype=torch.float64))
    print(torch.tensor([1, 2], dtype=torch.int32), torch.tensor([True, False]))
    print(torch.tensor([[1e-5, 1.0], [100.0, 1e4]]))
    print(torch.tensor([1e10, 1.0]), torch.tensor(float('nan')), torch.tensor([float('inf'), -1.0]))
    print(torch.float32, torch.float, torch.int64, torch.long, torch.float64)
    print(torch.zeros(2, 3).dtype, torch.arange(3).dtype, torch.tensor(1.0).device)
    print(torch.Size([2, 3]), torch.zeros(0), torch.zeros(2, 0))
""")

cell("printing", "large_and_options", """
    import torch
    print(torch.arange(2000.0))
    print(torch.arange(1200).reshape(40, 30))
    torch.set_printoptions(precision=2)
    print(torch.tensor([1.23456, 2.0]))
    torch.set_printoptions(sci_mode=False)
    print(torch.tensor([1e-6, 1.0]))
    torch.set_printoptions(profile='default')
    print(torch.tensor([0.1, 0.2]) + torch.tensor([0.2, 0.1]))
""")

cell("printing", "grad_suffixes", """
    import torch
    x = torch.ones(2, 2, requires_grad=True)
    print(x)
    y = x + 2
    print(y)
    print(y.grad_fn)
    z = y * y * 3
    out = z.mean()
    print(z, out)
    print(f"{z}", "{}".format(out), f"{out:.3f}", format(out, '.1e'))
    print(str(x.sum()), repr(x.T), x.detach())
    print(torch.nn.Parameter(torch.tensor([1.0, 2.0])))
    with torch.no_grad():
        print(x * 2)
""")

cell("printing", "grad_fn_types", """
    import torch
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    loss = ((x * 3).exp().sum() - x.mean()) ** 2
    def walk(fn, depth=0):
        print('  ' * depth + type(fn).__name__)
        for nxt, _ in fn.next_functions:
            if nxt is not None:
                walk(nxt, depth + 1)
    walk(loss.grad_fn)
""")

cell("printing", "modules", """
    import torch
    import torch.nn as nn
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1), nn.Sigmoid())
    print(model)
    print(nn.MSELoss(), nn.CrossEntropyLoss(), nn.BCELoss(reduction='sum'))
    print(torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9))
    print(torch.optim.Adam(model.parameters(), lr=0.01))
    print([(name, p.shape) for name, p in model.named_parameters()])
""")

cell("printing", "version", """
    import torch
    print(torch.__version__)
""")

cell("printing", "errors_courses_hit", """
    import torch
    for code in ["torch.tensor([1.0, 2.0]) @ torch.tensor([1.0, 2.0, 3.0])",
                 "torch.ones(2, 3).view(4)",
                 "torch.tensor(1.0, requires_grad=True).numpy()",
                 "torch.tensor([1.0]).backward()",
                 "torch.tensor([1, 2]).mean()"]:
        try:
            eval(code)
        except Exception as e:
            print(type(e).__name__, e)
""")
# fmt: on
