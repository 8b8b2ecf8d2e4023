"""Godoy, "Deep Learning with PyTorch Step-by-Step", chapters 0 to 3, as
course cells; see course_cells.py."""

# ruff: noqa: E501 - the courses' own lines, kept as written

from course_cells import cell

# fmt: off

DATA = """
    import numpy as np
    import torch
    import torch.optim as optim
    import torch.nn as nn
    true_b = 1
    true_w = 2
    N = 100
    np.random.seed(42)
    x = np.random.rand(N, 1)
    epsilon = (.1 * np.random.randn(N, 1))
    y = true_b + true_w * x + epsilon
    idx = np.arange(N)
    np.random.shuffle(idx)
    train_idx = idx[:int(N*.8)]
    val_idx = idx[int(N*.8):]
    x_train, y_train = x[train_idx], y[train_idx]
    x_val, y_val = x[val_idx], y[val_idx]
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    x_train_tensor = torch.as_tensor(x_train).float().to(device)
    y_train_tensor = torch.as_tensor(y_train).float().to(device)
"""

# ---- chapter 1 ----------------------------------------------------------

cell("godoy", "tensor_tour", """
    import torch
    scalar = torch.tensor(3.14159)
    vector = torch.tensor([1, 2, 3])
    matrix = torch.ones((2, 3), dtype=torch.float)
    tensor = torch.randn((2, 3, 4), dtype=torch.float)
    print(scalar)
    print(vector)
    print(matrix)
    print(tensor)
    print(tensor.size(), tensor.shape)
    print(scalar.size(), scalar.shape)
""")

cell("godoy", "views_and_copies", """
    import torch
    matrix = torch.ones((2, 3), dtype=torch.float)
    same_matrix = matrix.view(1, 6)
    same_matrix[0, 1] = 2.
    print(matrix)
    print(same_matrix)
    different_matrix = matrix.new_tensor(matrix.view(1, 6))
    different_matrix[0, 1] = 3.
    print(matrix)
    print(different_matrix)
    another_matrix = matrix.view(1, 6).clone().detach()
    another_matrix[0, 1] = 4.
    print(matrix)
    print(another_matrix)
""")

cell("godoy", "numpy_and_devices", DATA + """
    print(x_train.dtype, torch.as_tensor(x_train).dtype)
    float_tensor = torch.as_tensor(x_train).float()
    print(float_tensor.dtype)
    dummy_array = np.array([1, 2, 3])
    dummy_tensor = torch.as_tensor(dummy_array)
    dummy_array[1] = 0
    print(dummy_tensor)
    print(dummy_tensor.numpy())
    print(torch.cuda.is_available(), device)
    print(type(x_train), type(x_train_tensor), x_train_tensor.type())
    back_to_numpy = x_train_tensor.cpu().numpy()
    print(back_to_numpy[:2], y_train_tensor[:2])
""")

cell("godoy", "creating_parameters", """
    import torch
    device = 'cpu'
    torch.manual_seed(42)
    b = torch.randn(1, requires_grad=True, dtype=torch.float, device=device)
    w = torch.randn(1, requires_grad=True, dtype=torch.float, device=device)
    print(b, w)
    torch.manual_seed(42)
    b = torch.randn(1, dtype=torch.float).to(device)
    w = torch.randn(1, dtype=torch.float).to(device)
    b.requires_grad_()
    w.requires_grad_()
    print(b, w)
""")

cell("godoy", "autograd_step", DATA + """
    torch.manual_seed(42)
    b = torch.randn(1, requires_grad=True, dtype=torch.float, device=device)
    w = torch.randn(1, requires_grad=True, dtype=torch.float, device=device)
    yhat = b + w * x_train_tensor
    error = (yhat - y_train_tensor)
    loss = (error ** 2).mean()
    loss.backward()
    print(error.requires_grad, yhat.requires_grad, b.requires_grad, w.requires_grad)
    print(y_train_tensor.requires_grad, x_train_tensor.requires_grad)
    print(b.grad, w.grad)
    print(type(yhat.grad_fn).__name__, type(error.grad_fn).__name__, type(loss.grad_fn).__name__)
    print(yhat.grad_fn, error.grad_fn, loss.grad_fn)
    print(b.grad_fn, w.grad_fn)
    yhat = b + w * x_train_tensor
    error = (yhat - y_train_tensor)
    loss = (error ** 2).mean()
    loss.backward()
    print(b.grad, w.grad)
    b.grad.zero_(), w.grad.zero_()
    print(b.grad, w.grad)
""")

cell("godoy", "update_mistakes", DATA + """
    lr = 0.1
    torch.manual_seed(42)
    b = torch.randn(1, requires_grad=True, dtype=torch.float, device=device)
    w = torch.randn(1, requires_grad=True, dtype=torch.float, device=device)
    for epoch in range(2):
        yhat = b + w * x_train_tensor
        error = (yhat - y_train_tensor)
        loss = (error ** 2).mean()
        loss.backward()
        b = b - lr * b.grad
        w = w - lr * w.grad
        print(b)
        b.grad.zero_()
""")

cell("godoy", "update_in_place_outside_no_grad", DATA + """
    lr = 0.1
    torch.manual_seed(42)
    b = torch.randn(1, requires_grad=True, dtype=torch.float, device=device)
    w = torch.randn(1, requires_grad=True, dtype=torch.float, device=device)
    yhat = b + w * x_train_tensor
    loss = ((yhat - y_train_tensor) ** 2).mean()
    loss.backward()
    b -= lr * b.grad
""")

cell("godoy", "training_loop", DATA + """
    lr = 0.1
    torch.manual_seed(42)
    b = torch.randn(1, requires_grad=True, dtype=torch.float, device=device)
    w = torch.randn(1, requires_grad=True, dtype=torch.float, device=device)
    n_epochs = 1000
    for epoch in range(n_epochs):
        yhat = b + w * x_train_tensor
        error = (yhat - y_train_tensor)
        loss = (error ** 2).mean()
        loss.backward()
        with torch.no_grad():
            b -= lr * b.grad
            w -= lr * w.grad
        b.grad.zero_()
        w.grad.zero_()
    print(b, w)
""")

cell("godoy", "optimizer_and_loss", DATA + """
    lr = 0.1
    torch.manual_seed(42)
    b = torch.randn(1, requires_grad=True, dtype=torch.float, device=device)
    w = torch.randn(1, requires_grad=True, dtype=torch.float, device=device)
    optimizer = optim.SGD([b, w], lr=lr)
    loss_fn = nn.MSELoss(reduction='mean')
    print(loss_fn)
    n_epochs = 1000
    for epoch in range(n_epochs):
        yhat = b + w * x_train_tensor
        loss = loss_fn(yhat, y_train_tensor)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    print(b, w)
    print(optimizer.state_dict())
    print(loss)
    print(loss.detach().cpu().numpy())
    print(loss.item(), loss.tolist())
    predictions = torch.tensor([0.5, 1.0])
    labels = torch.tensor([2.0, 1.3])
    print(loss_fn(predictions, labels))
""")

cell("godoy", "numpy_of_requires_grad", DATA + """
    loss_fn = nn.MSELoss(reduction='mean')
    b = torch.zeros(1, requires_grad=True)
    loss = loss_fn(b + x_train_tensor, y_train_tensor)
    loss.cpu().numpy()
""")

cell("godoy", "manual_model", DATA + """
    class ManualLinearRegression(nn.Module):
        def __init__(self):
            super().__init__()
            self.b = nn.Parameter(torch.randn(1, requires_grad=True, dtype=torch.float))
            self.w = nn.Parameter(torch.randn(1, requires_grad=True, dtype=torch.float))
        def forward(self, x):
            return self.b + self.w * x
    torch.manual_seed(42)
    dummy = ManualLinearRegression()
    print(list(dummy.parameters()))
    print(dummy.state_dict())
    lr = 0.1
    model = ManualLinearRegression().to(device)
    optimizer = optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.MSELoss(reduction='mean')
    for epoch in range(1000):
        model.train()
        yhat = model(x_train_tensor)
        loss = loss_fn(yhat, y_train_tensor)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    print(model.state_dict())
""")

cell("godoy", "nested_and_sequential", """
    import torch
    import torch.nn as nn
    torch.manual_seed(42)
    linear = nn.Linear(1, 1)
    print(linear, linear.state_dict())
    class MyLinearRegression(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(1, 1)
        def forward(self, x):
            self.linear(x)
    torch.manual_seed(42)
    dummy = MyLinearRegression().to('cpu')
    print(list(dummy.parameters()), dummy.state_dict())
    torch.manual_seed(42)
    model = nn.Sequential(nn.Linear(1, 1)).to('cpu')
    print(model.state_dict())
    torch.manual_seed(42)
    model = nn.Sequential(nn.Linear(3, 5), nn.Linear(5, 1)).to('cpu')
    print(model.state_dict())
    torch.manual_seed(42)
    model = nn.Sequential()
    model.add_module('layer1', nn.Linear(3, 5))
    model.add_module('layer2', nn.Linear(5, 1))
    print(model)
    print([name for name, _ in model.named_parameters()])
""")

# ---- chapter 2 ----------------------------------------------------------

cell("godoy", "datasets_and_loaders", DATA + """
    from torch.utils.data import Dataset, TensorDataset, DataLoader
    class CustomDataset(Dataset):
        def __init__(self, x_tensor, y_tensor):
            self.x = x_tensor
            self.y = y_tensor
        def __getitem__(self, index):
            return (self.x[index], self.y[index])
        def __len__(self):
            return len(self.x)
    x_train_tensor = torch.from_numpy(x_train).float()
    y_train_tensor = torch.from_numpy(y_train).float()
    train_data = CustomDataset(x_train_tensor, y_train_tensor)
    print(train_data[0])
    train_data = TensorDataset(x_train_tensor, y_train_tensor)
    print(train_data[0])
    train_loader = DataLoader(dataset=train_data, batch_size=16, shuffle=True)
    print(next(iter(train_loader)))
    print(len(train_loader), len(train_data))
""")

cell("godoy", "minibatch_training", DATA + """
    from torch.utils.data import TensorDataset, DataLoader
    def make_train_step_fn(model, loss_fn, optimizer):
        def perform_train_step_fn(x, y):
            model.train()
            yhat = model(x)
            loss = loss_fn(yhat, y)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            return loss.item()
        return perform_train_step_fn
    torch.manual_seed(42)
    x_train_tensor = torch.from_numpy(x_train).float()
    y_train_tensor = torch.from_numpy(y_train).float()
    train_data = TensorDataset(x_train_tensor, y_train_tensor)
    train_loader = DataLoader(dataset=train_data, batch_size=16, shuffle=True)
    model = nn.Sequential(nn.Linear(1, 1)).to(device)
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    loss_fn = nn.MSELoss(reduction='mean')
    train_step_fn = make_train_step_fn(model, loss_fn, optimizer)
    losses = []
    for epoch in range(50):
        mini_batch_losses = []
        for x_batch, y_batch in train_loader:
            x_batch = x_batch.to(device)
            y_batch = y_batch.to(device)
            mini_batch_loss = train_step_fn(x_batch, y_batch)
            mini_batch_losses.append(mini_batch_loss)
        loss = np.mean(mini_batch_losses)
        losses.append(loss)
    print(losses[:3], losses[-1])
    print(model.state_dict())
""")

cell("godoy", "random_split_and_validation", """
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.optim as optim
    from torch.utils.data import DataLoader, TensorDataset, random_split
    np.random.seed(42)
    x = np.random.rand(100, 1)
    y = 1 + 2 * x + .1 * np.random.randn(100, 1)
    torch.manual_seed(13)
    x_tensor = torch.as_tensor(x).float()
    y_tensor = torch.as_tensor(y).float()
    dataset = TensorDataset(x_tensor, y_tensor)
    ratio = .8
    n_total = len(dataset)
    n_train = int(n_total * ratio)
    n_val = n_total - n_train
    train_data, val_data = random_split(dataset, [n_train, n_val])
    train_loader = DataLoader(dataset=train_data, batch_size=16, shuffle=True)
    val_loader = DataLoader(dataset=val_data, batch_size=16)
    print(train_data.indices[:5], val_data.indices[:5])
    torch.manual_seed(42)
    model = nn.Sequential(nn.Linear(1, 1))
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    loss_fn = nn.MSELoss(reduction='mean')
    for epoch in range(20):
        for x_batch, y_batch in train_loader:
            model.train()
            loss = loss_fn(model(x_batch), y_batch)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
        with torch.no_grad():
            val_losses = [loss_fn(model.eval()(xb), yb).item() for xb, yb in val_loader]
        if epoch % 5 == 0:
            print(epoch, loss.item(), np.mean(val_losses))
    print(model.state_dict())
""")

cell("godoy", "checkpoint_and_inference", """
    import torch
    import torch.nn as nn
    import torch.optim as optim
    torch.manual_seed(42)
    model = nn.Sequential(nn.Linear(1, 1))
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    x = torch.tensor([[0.1], [0.5], [0.9]])
    y = 1 + 2 * x
    loss = nn.MSELoss()(model(x), y)
    loss.backward()
    optimizer.step()
    checkpoint = {'epoch': 1,
                  'model_state_dict': model.state_dict(),
                  'optimizer_state_dict': optimizer.state_dict(),
                  'loss': [loss.item()]}
    torch.save(checkpoint, 'model_checkpoint.pth')
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(1, 1))
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    checkpoint = torch.load('model_checkpoint.pth', weights_only=False)
    model.load_state_dict(checkpoint['model_state_dict'])
    optimizer.load_state_dict(checkpoint['optimizer_state_dict'])
    print(checkpoint['epoch'], checkpoint['loss'])
    print(model.state_dict())
    new_inputs = torch.tensor([[.20], [.34], [.57]])
    model.eval()
    print(model(new_inputs))
    with torch.no_grad():
        print(model(new_inputs))
""")

# ---- chapter 3 (and 6): classification, optimizers, schedulers ----------

cell("godoy", "logistic_classification", """
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.optim as optim
    np.random.seed(13)
    X = np.random.randn(40, 2)
    y = (X[:, 0] + X[:, 1] > 0).astype(float).reshape(-1, 1)
    torch.manual_seed(42)
    x_tensor = torch.as_tensor(X).float()
    y_tensor = torch.as_tensor(y).float()
    model = nn.Sequential()
    model.add_module('linear', nn.Linear(2, 1))
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    loss_fn = nn.BCEWithLogitsLoss()
    for epoch in range(100):
        loss = loss_fn(model(x_tensor), y_tensor)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    print(model.state_dict(), loss)
    logits = model(x_tensor[:4])
    print(logits, torch.sigmoid(logits), (torch.sigmoid(logits) > 0.5).float())
    loss_fn_bce = nn.BCELoss(reduction='mean')
    print(loss_fn_bce(torch.sigmoid(logits), y_tensor[:4]))
""")

cell("godoy", "adam_state_and_schedulers", """
    import torch
    import torch.nn as nn
    import torch.optim as optim
    from torch.optim.lr_scheduler import StepLR, LambdaLR
    torch.manual_seed(42)
    model = nn.Sequential()
    model.add_module('linear', nn.Linear(1, 1))
    optimizer = optim.Adam(model.parameters(), lr=0.1)
    scheduler = StepLR(optimizer, step_size=2, gamma=0.1)
    x = torch.linspace(0, 1, 10).view(-1, 1)
    y = 1 + 2 * x
    for epoch in range(5):
        loss = nn.MSELoss()(model(x), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        scheduler.step()
        print(epoch, scheduler.get_last_lr(), loss.item())
    print(optimizer.state_dict()['state'])
    dummy_optimizer = optim.SGD([nn.Parameter(torch.randn(1))], lr=0.01)
    dummy_scheduler = LambdaLR(dummy_optimizer, lr_lambda=lambda epoch: 0.1 ** (epoch // 2))
    for _ in range(4):
        dummy_optimizer.step()
        dummy_scheduler.step()
        print(dummy_scheduler.get_last_lr())
""")

cell("godoy", "hooks_and_clipping", """
    import torch
    import torch.nn as nn
    torch.manual_seed(42)
    model = nn.Sequential(nn.Linear(1, 1))
    outputs = []
    def hook_fn(layer, inputs, output):
        outputs.append(output.detach())
    handle = model[0].register_forward_hook(hook_fn)
    grads = []
    model[0].weight.register_hook(lambda grad: grads.append(grad.clone()))
    x = torch.tensor([[1.0], [2.0]])
    loss = ((model(x) - 10) ** 2).mean()
    loss.backward()
    handle.remove()
    print(outputs, grads)
    print(nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0))
    nn.utils.clip_grad_value_(model.parameters(), clip_value=0.5)
    print([p.grad for p in model.parameters()])
""")
# fmt: on
