"""Dive into Deep Learning (PyTorch edition, 0.17), chapters 2 and 3, as
course cells; see course_cells.py."""

# ruff: noqa: E501 - the courses' own lines, kept as written

from course_cells import cell

# fmt: off

# ---- 2.1 data manipulation ----------------------------------------------

cell("d2l", "getting_started", """
    import torch
    x = torch.arange(12)
    print(x)
    print(x.shape)
    print(x.numel())
    X = x.reshape(3, 4)
    print(X)
    print(torch.zeros((2, 3, 4)))
    print(torch.ones((2, 3, 4)))
    print(torch.randn(3, 4))
    print(torch.tensor([[2, 1, 4, 3], [1, 2, 3, 4], [4, 3, 2, 1]]))
""")

cell("d2l", "operations", """
    import torch
    x = torch.tensor([1.0, 2, 4, 8])
    y = torch.tensor([2, 2, 2, 2])
    print(x + y, x - y, x * y, x / y, x ** y)
    print(torch.exp(x))
    X = torch.arange(12, dtype=torch.float32).reshape((3,4))
    Y = torch.tensor([[2.0, 1, 4, 3], [1, 2, 3, 4], [4, 3, 2, 1]])
    print(torch.cat((X, Y), dim=0), torch.cat((X, Y), dim=1))
    print(X == Y)
    print(X.sum())
""")

cell("d2l", "broadcasting", """
    import torch
    a = torch.arange(3).reshape((3, 1))
    b = torch.arange(2).reshape((1, 2))
    print(a, b)
    print(a + b)
""")

cell("d2l", "indexing_slicing", """
    import torch
    X = torch.arange(12, dtype=torch.float32).reshape((3,4))
    print(X[-1], X[1:3])
    X[1, 2] = 9
    print(X)
    X[0:2, :] = 12
    print(X)
""")

cell("d2l", "saving_memory", """
    import torch
    X = torch.arange(12, dtype=torch.float32).reshape((3,4))
    Y = torch.tensor([[2.0, 1, 4, 3], [1, 2, 3, 4], [4, 3, 2, 1]])
    before = id(Y)
    Y = Y + X
    print(id(Y) == before)
    Z = torch.zeros_like(Y)
    before = id(Z)
    Z[:] = X + Y
    print(id(Z) == before)
    before = id(X)
    X += Y
    print(id(X) == before)
    print(Z)
""")

cell("d2l", "conversion", """
    import torch
    X = torch.arange(12, dtype=torch.float32).reshape((3,4))
    A = X.numpy()
    B = torch.tensor(A)
    print(type(A), type(B))
    a = torch.tensor([3.5])
    print(a, a.item(), float(a), int(a))
""")

cell("d2l", "preprocessing", """
    import os
    import pandas as pd
    import torch
    os.makedirs(os.path.join('..', 'data'), exist_ok=True)
    data_file = os.path.join('..', 'data', 'house_tiny.csv')
    with open(data_file, 'w') as f:
        f.write('NumRooms,Alley,Price\\n')
        f.write('NA,Pave,127500\\n')
        f.write('2,NA,106000\\n')
        f.write('4,NA,178100\\n')
        f.write('NA,NA,140000\\n')
    data = pd.read_csv(data_file)
    inputs, outputs = data.iloc[:, 0:2], data.iloc[:, 2]
    inputs = inputs.fillna(inputs.mean(numeric_only=True))
    inputs = pd.get_dummies(inputs, dummy_na=True)
    X, y = torch.tensor(inputs.values.astype(float)), torch.tensor(outputs.values)
    print(X, y)
""")

# ---- 2.3 linear algebra -------------------------------------------------

cell("d2l", "scalars_vectors_matrices", """
    import torch
    x = torch.tensor(3.0)
    y = torch.tensor(2.0)
    print(x + y, x * y, x / y, x**y)
    x = torch.arange(4)
    print(x, x[3], len(x), x.shape)
    A = torch.arange(20).reshape(5, 4)
    print(A, A.T)
    B = torch.tensor([[1, 2, 3], [2, 0, 4], [3, 4, 5]])
    print(B == B.T)
    X = torch.arange(24).reshape(2, 3, 4)
    print(X)
""")

cell("d2l", "tensor_arithmetic", """
    import torch
    A = torch.arange(20, dtype=torch.float32).reshape(5, 4)
    B = A.clone()
    print(A, A + B)
    print(A * B)
    a = 2
    X = torch.arange(24).reshape(2, 3, 4)
    print(a + X, (a * X).shape)
""")

cell("d2l", "reduction", """
    import torch
    x = torch.arange(4, dtype=torch.float32)
    print(x, x.sum())
    A = torch.arange(20, dtype=torch.float32).reshape(5, 4)
    print(A.shape, A.sum())
    A_sum_axis0 = A.sum(axis=0)
    print(A_sum_axis0, A_sum_axis0.shape)
    A_sum_axis1 = A.sum(axis=1)
    print(A_sum_axis1, A_sum_axis1.shape)
    print(A.sum(axis=[0, 1]))
    print(A.mean(), A.sum() / A.numel())
    print(A.mean(axis=0), A.sum(axis=0) / A.shape[0])
""")

cell("d2l", "non_reduction_sum", """
    import torch
    A = torch.arange(20, dtype=torch.float32).reshape(5, 4)
    sum_A = A.sum(axis=1, keepdims=True)
    print(sum_A)
    print(A / sum_A)
    print(A.cumsum(axis=0))
""")

cell("d2l", "products_and_norms", """
    import torch
    x = torch.arange(4, dtype=torch.float32)
    y = torch.ones(4, dtype = torch.float32)
    print(x, y, torch.dot(x, y))
    print(torch.sum(x * y))
    A = torch.arange(20, dtype=torch.float32).reshape(5, 4)
    print(A.shape, x.shape, torch.mv(A, x))
    B = torch.ones(4, 3)
    print(torch.mm(A, B))
    u = torch.tensor([3.0, -4.0])
    print(torch.norm(u))
    print(torch.abs(u).sum())
    print(torch.norm(torch.ones((4, 9))))
""")

# ---- 2.5 automatic differentiation --------------------------------------

cell("d2l", "autograd_simple", """
    import torch
    x = torch.arange(4.0)
    print(x)
    x.requires_grad_(True)
    print(x.grad)
    y = 2 * torch.dot(x, x)
    print(y)
    y.backward()
    print(x.grad)
    print(x.grad == 4 * x)
    x.grad.zero_()
    y = x.sum()
    y.backward()
    print(x.grad)
""")

cell("d2l", "autograd_non_scalar_and_detach", """
    import torch
    x = torch.arange(4.0, requires_grad=True)
    y = x * x
    y.sum().backward()
    print(x.grad)
    x.grad.zero_()
    y = x * x
    u = y.detach()
    z = u * x
    z.sum().backward()
    print(x.grad == u)
    x.grad.zero_()
    y.sum().backward()
    print(x.grad == 2 * x)
""")

cell("d2l", "autograd_control_flow", """
    import torch
    def f(a):
        b = a * 2
        while b.norm() < 1000:
            b = b * 2
        if b.sum() > 0:
            c = b
        else:
            c = 100 * b
        return c
    a = torch.randn(size=(), requires_grad=True)
    d = f(a)
    d.backward()
    print(a.grad == d / a)
    print(a, d)
""")

cell("d2l", "fstring_tensors", """
    import torch
    x = torch.arange(4.0, requires_grad=True)
    y = 2 * torch.dot(x, x)
    print(f'x: {x}')
    print(f'y: {y}, y as number: {y:f}')
    print('{} {}'.format(x.grad, y.grad_fn.name()))
""")

# ---- 3.2 linear regression from scratch ---------------------------------

SYNTHETIC = """
    import random
    import torch
    def synthetic_data(w, b, num_examples):
        \"\"\"Generate y = Xw + b + noise.\"\"\"
        X = torch.normal(0, 1, (num_examples, len(w)))
        y = torch.matmul(X, w) + b
        y += torch.normal(0, 0.01, y.shape)
        return X, y.reshape((-1, 1))
    true_w = torch.tensor([2, -3.4])
    true_b = 4.2
    features, labels = synthetic_data(true_w, true_b, 1000)
"""

cell("d2l", "synthetic_data", SYNTHETIC + """
    print('features:', features[0],'\\nlabel:', labels[0])
    print(features.shape, labels.shape, labels.mean())
""")

cell("d2l", "data_iter", SYNTHETIC + """
    def data_iter(batch_size, features, labels):
        num_examples = len(features)
        indices = list(range(num_examples))
        random.shuffle(indices)
        for i in range(0, num_examples, batch_size):
            batch_indices = torch.tensor(
                indices[i: min(i + batch_size, num_examples)])
            yield features[batch_indices], labels[batch_indices]
    batch_size = 10
    for X, y in data_iter(batch_size, features, labels):
        print(X, '\\n', y)
        break
""")

cell("d2l", "linreg_scratch", SYNTHETIC + """
    def data_iter(batch_size, features, labels):
        num_examples = len(features)
        indices = list(range(num_examples))
        random.shuffle(indices)
        for i in range(0, num_examples, batch_size):
            batch_indices = torch.tensor(
                indices[i: min(i + batch_size, num_examples)])
            yield features[batch_indices], labels[batch_indices]
    w = torch.normal(0, 0.01, size=(2,1), requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    def linreg(X, w, b):
        return torch.matmul(X, w) + b
    def squared_loss(y_hat, y):
        return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2
    def sgd(params, lr, batch_size):
        with torch.no_grad():
            for param in params:
                param -= lr * param.grad / batch_size
                param.grad.zero_()
    lr = 0.03
    num_epochs = 3
    batch_size = 10
    net = linreg
    loss = squared_loss
    for epoch in range(num_epochs):
        for X, y in data_iter(batch_size, features, labels):
            l = loss(net(X, w, b), y)
            l.sum().backward()
            sgd([w, b], lr, batch_size)
        with torch.no_grad():
            train_l = loss(net(features, w, b), labels)
            print(f'epoch {epoch + 1}, loss {float(train_l.mean()):f}')
    print(f'error in estimating w: {true_w - w.reshape(true_w.shape)}')
    print(f'error in estimating b: {true_b - b}')
""")

# ---- 3.3 concise implementation -----------------------------------------

cell("d2l", "linreg_concise", SYNTHETIC + """
    from torch.utils import data
    from torch import nn
    def load_array(data_arrays, batch_size, is_train=True):
        \"\"\"Construct a PyTorch data iterator.\"\"\"
        dataset = data.TensorDataset(*data_arrays)
        return data.DataLoader(dataset, batch_size, shuffle=is_train)
    batch_size = 10
    data_iter = load_array((features, labels), batch_size)
    print(next(iter(data_iter)))
    net = nn.Sequential(nn.Linear(2, 1))
    net[0].weight.data.normal_(0, 0.01)
    net[0].bias.data.fill_(0)
    loss = nn.MSELoss()
    trainer = torch.optim.SGD(net.parameters(), lr=0.03)
    num_epochs = 3
    for epoch in range(num_epochs):
        for X, y in data_iter:
            l = loss(net(X) ,y)
            trainer.zero_grad()
            l.backward()
            trainer.step()
        l = loss(net(features), labels)
        print(f'epoch {epoch + 1}, loss {l:f}')
    w = net[0].weight.data
    print('error in estimating w:', true_w - w.reshape(true_w.shape))
    b = net[0].bias.data
    print('error in estimating b:', true_b - b)
""")

# ---- 3.4-3.6 softmax regression, from scratch ---------------------------

cell("d2l", "softmax_scratch", """
    import torch
    X = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    print(X.sum(0, keepdim=True), X.sum(1, keepdim=True))
    def softmax(X):
        X_exp = torch.exp(X)
        partition = X_exp.sum(1, keepdim=True)
        return X_exp / partition
    X = torch.normal(0, 1, (2, 5))
    X_prob = softmax(X)
    print(X_prob, X_prob.sum(1))
    y = torch.tensor([0, 2])
    y_hat = torch.tensor([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]])
    print(y_hat[[0, 1], y])
    def cross_entropy(y_hat, y):
        return - torch.log(y_hat[range(len(y_hat)), y])
    print(cross_entropy(y_hat, y))
    def accuracy(y_hat, y):
        if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
            y_hat = y_hat.argmax(axis=1)
        cmp = y_hat.type(y.dtype) == y
        return float(cmp.type(y.dtype).sum())
    print(accuracy(y_hat, y) / len(y))
""")

cell("d2l", "softmax_concise", """
    import torch
    from torch import nn
    net = nn.Sequential(nn.Flatten(), nn.Linear(4, 3))
    def init_weights(m):
        if type(m) == nn.Linear:
            nn.init.normal_(m.weight, std=0.01)
    net.apply(init_weights)
    print(net)
    loss = nn.CrossEntropyLoss(reduction='none')
    trainer = torch.optim.SGD(net.parameters(), lr=0.1)
    X = torch.randn(6, 2, 2)
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    for epoch in range(5):
        l = loss(net(X), y)
        trainer.zero_grad()
        l.mean().backward()
        trainer.step()
        print(epoch, l.mean(), l.shape)
""")

# ---- 11.3 gradient descent, with autograd and the optimizers ------------

cell("d2l", "gd_2d_optimizers", """
    import torch
    def f_2d(x1, x2):
        return 0.1 * x1 ** 2 + 2 * x2 ** 2
    for name, make in [('sgd', lambda p: torch.optim.SGD(p, lr=0.4)),
                       ('momentum', lambda p: torch.optim.SGD(p, lr=0.6, momentum=0.5)),
                       ('adagrad', lambda p: torch.optim.Adagrad(p, lr=0.4)),
                       ('rmsprop', lambda p: torch.optim.RMSprop(p, lr=0.4, alpha=0.9)),
                       ('adam', lambda p: torch.optim.Adam(p, lr=0.4))]:
        x = torch.tensor([-5.0, -2.0], requires_grad=True)
        trainer = make([x])
        for i in range(20):
            trainer.zero_grad()
            l = f_2d(x[0], x[1])
            l.backward()
            trainer.step()
        print(f'{name}: epoch {i + 1}, x1: {float(x[0]):f}, x2: {float(x[1]):f}')
""")
# fmt: on
