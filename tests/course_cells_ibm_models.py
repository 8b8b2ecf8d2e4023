"""IBM's "Deep Neural Networks with PyTorch" labs, modules 2 and 3
(regression and classification), as course cells; see course_cells.py."""

# ruff: noqa: E501 - the courses' own lines, kept as written

from course_cells import cell

# fmt: off
# ---- IBM, module 2 and 3: regression and classification ------------------

cell("ibm", "prediction", """
    import torch
    from torch.nn import Linear
    w = torch.tensor(2.0, requires_grad = True)
    b = torch.tensor(-1.0, requires_grad = True)
    def forward(x):
        yhat = w * x + b
        return yhat
    x = torch.tensor([[1.0]])
    yhat = forward(x)
    print("The prediction: ", yhat)
    x = torch.tensor([[1.0], [2.0]])
    print("The shape of x: ", x.shape)
    yhat = forward(x)
    print("The prediction: ", yhat)
    torch.manual_seed(1)
    lr = Linear(in_features=1, out_features=1, bias=True)
    print("Parameters w and b: ", list(lr.parameters()))
    print("Python dictionary: ",lr.state_dict())
    print("keys: ",lr.state_dict().keys())
    print("values: ",lr.state_dict().values())
    print("weight:",lr.weight)
    print("bias:",lr.bias)
    x = torch.tensor([[1.0],[2.0]])
    yhat = lr(x)
    print("The prediction: ", yhat)
""")

cell("ibm", "custom_module", """
    import torch
    from torch import nn
    torch.manual_seed(1)
    class LR(nn.Module):
        def __init__(self, input_size, output_size):
            super(LR, self).__init__()
            self.linear = nn.Linear(input_size, output_size)
        def forward(self, x):
            out = self.linear(x)
            return out
    lr = LR(1, 1)
    print("The parameters: ", list(lr.parameters()))
    print("Linear model: ", lr.linear)
    x = torch.tensor([[1.0], [2.0]])
    yhat = lr(x)
    print("The prediction: ", yhat)
    print("Python dictionary: ", lr.state_dict())
    print(lr)
""")

cell("ibm", "slope_one_parameter", """
    import torch
    X = torch.arange(-3, 3, 0.1).view(-1, 1)
    f = -3 * X
    Y = f + 0.1 * torch.randn(X.size())
    def forward(x):
        return w * x
    def criterion(yhat, y):
        return torch.mean((yhat - y) ** 2)
    lr = 0.1
    LOSS = []
    w = torch.tensor(-10.0, requires_grad = True)
    def train_model(iter):
        for epoch in range (iter):
            Yhat = forward(X)
            loss = criterion(Yhat,Y)
            LOSS.append(loss)
            loss.backward()
            w.data = w.data - lr * w.grad.data
            w.grad.data.zero_()
            print(epoch, loss, w)
    train_model(4)
    print(LOSS[0], len(X))
""")

cell("ibm", "two_parameters", """
    import torch
    X = torch.arange(-3, 3, 0.1).view(-1, 1)
    f = 1 * X - 1
    Y = f + 0.1 * torch.randn(X.size())
    def forward(x):
        return w * x + b
    def criterion(yhat,y):
        return torch.mean((yhat-y)**2)
    w = torch.tensor(-15.0, requires_grad = True)
    b = torch.tensor(-10.0, requires_grad = True)
    lr = 0.1
    LOSS = []
    def train_model(iter):
        for epoch in range(iter):
            Yhat = forward(X)
            loss = criterion(Yhat, Y)
            if epoch % 3 == 0:
                print(epoch, loss.tolist(), w.data, b.data)
            LOSS.append(loss.tolist())
            loss.backward()
            w.data = w.data - lr * w.grad.data
            b.data = b.data - lr * b.grad.data
            w.grad.data.zero_()
            b.grad.data.zero_()
    train_model(15)
    print(LOSS[-1])
""")

cell("ibm", "sgd_dataloader", """
    import torch
    from torch.utils.data import Dataset, DataLoader
    torch.manual_seed(1)
    class Data(Dataset):
        def __init__(self):
            self.x = torch.arange(-3, 3, 0.1).view(-1, 1)
            self.y = 1 * self.x - 1
            self.len = self.x.shape[0]
        def __getitem__(self,index):
            return self.x[index], self.y[index]
        def __len__(self):
            return self.len
    dataset = Data()
    print("The length of dataset: ", len(dataset))
    x, y = dataset[0]
    print("Index: ", 0, "x: ", x, "y: ", y)
    x, y = dataset[0:3]
    print("The first 3 x: ", x)
    print("The first 3 y: ", y)
    trainloader = DataLoader(dataset = dataset, batch_size = 1)
    w = torch.tensor(-12.0, requires_grad = True)
    b = torch.tensor(-10.0, requires_grad = True)
    def forward(x):
        return w * x + b
    def criterion(yhat, y):
        return torch.mean((yhat - y) ** 2)
    lr = 0.1
    for epoch in range(10):
        for x, y in trainloader:
            yhat = forward(x)
            loss = criterion(yhat, y)
            loss.backward()
            w.data = w.data - lr * w.grad.data
            b.data = b.data - lr * b.grad.data
            w.grad.data.zero_()
            b.grad.data.zero_()
        print(loss)
""")

cell("ibm", "minibatch", """
    import torch
    from torch.utils.data import Dataset, DataLoader
    X = torch.arange(-3, 3, 0.1).view(-1, 1)
    class Data(Dataset):
        def __init__(self):
            self.x = torch.arange(-3, 3, 0.1).view(-1, 1)
            self.y = 1 * X - 1
            self.len = self.x.shape[0]
        def __getitem__(self, index):
            return self.x[index], self.y[index]
        def __len__(self):
            return self.len
    dataset = Data()
    w = torch.tensor(-15.0, requires_grad = True)
    b = torch.tensor(-10.0, requires_grad = True)
    def forward(x):
        return w * x + b
    def criterion(yhat, y):
        return torch.mean((yhat - y) ** 2)
    trainloader = DataLoader(dataset = dataset, batch_size = 5)
    lr = 0.1
    LOSS_MINI5 = []
    for epoch in range(10):
        Yhat = forward(X)
        LOSS_MINI5.append(criterion(Yhat, dataset.y).tolist())
        for x, y in trainloader:
            yhat = forward(x)
            loss = criterion(yhat, y)
            loss.backward()
            w.data = w.data - lr * w.grad.data
            b.data = b.data - lr * b.grad.data
            w.grad.data.zero_()
            b.grad.data.zero_()
    print(LOSS_MINI5)
""")

cell("ibm", "pytorch_way", """
    import torch
    from torch import nn, optim
    from torch.utils.data import Dataset, DataLoader
    torch.manual_seed(1)
    class Data(Dataset):
        def __init__(self):
            self.x = torch.arange(-3, 3, 0.1).view(-1, 1)
            self.f = 1 * self.x - 1
            self.y = self.f + 0.1 * torch.randn(self.x.size())
            self.len = self.x.shape[0]
        def __getitem__(self,index):
            return self.x[index],self.y[index]
        def __len__(self):
            return self.len
    dataset = Data()
    class linear_regression(nn.Module):
        def __init__(self, input_size, output_size):
            super(linear_regression, self).__init__()
            self.linear = nn.Linear(input_size, output_size)
        def forward(self, x):
            yhat = self.linear(x)
            return yhat
    criterion = nn.MSELoss()
    model = linear_regression(1,1)
    optimizer = optim.SGD(model.parameters(), lr = 0.01)
    print(list(model.parameters()))
    print("Optimizer", optimizer.state_dict())
    trainloader = DataLoader(dataset = dataset, batch_size = 1)
    model.state_dict()['linear.weight'][0] = -15
    model.state_dict()['linear.bias'][0] = -10
    for epoch in range(10):
        for x,y in trainloader:
            yhat = model(x)
            loss = criterion(yhat,y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        print(epoch, loss.item())
    print(model.state_dict())
""")

cell("ibm", "multiple_linear_regression", """
    import torch
    from torch import nn
    w = torch.tensor([[2.0], [3.0]], requires_grad=True)
    b = torch.tensor([[1.0]], requires_grad=True)
    def forward(x):
        yhat = torch.mm(x, w) + b
        return yhat
    x = torch.tensor([[1.0, 2.0]])
    yhat = forward(x)
    print("The result: ", yhat)
    X = torch.tensor([[1.0, 1.0], [1.0, 2.0], [1.0, 3.0]])
    yhat = forward(X)
    print("The result: ", yhat)
    torch.manual_seed(1)
    model = nn.Linear(2, 1)
    yhat = model(X)
    print("The result: ", yhat)
    model = nn.Linear(2, 2)
    print(model(X).shape, model.weight.shape)
""")

cell("ibm", "logistic_prediction", """
    import torch
    import torch.nn as nn
    torch.manual_seed(2)
    z = torch.arange(-100, 100, 0.1).view(-1, 1)
    print("The tensor: ", z[:3])
    sig = nn.Sigmoid()
    yhat = sig(z)
    print(yhat[995:1005].view(-1))
    yhat = torch.sigmoid(z)
    print(yhat.max(), yhat.min())
    x = torch.tensor([[1.0]])
    X = torch.tensor([[1.0], [100]])
    model = nn.Sequential(nn.Linear(1, 1), nn.Sigmoid())
    print("list(model.parameters()):\\n ", list(model.parameters()))
    print("\\nmodel.state_dict():\\n ", model.state_dict())
    yhat = model(x)
    print("The prediction: ", yhat)
    yhat = model(X)
    print("The prediction: ", yhat)
""")

cell("ibm", "logistic_cross_entropy", """
    import torch
    import torch.nn as nn
    from torch.utils.data import Dataset, DataLoader
    torch.manual_seed(0)
    class Data(Dataset):
        def __init__(self):
            self.x = torch.arange(-1, 1, 0.1).view(-1, 1)
            self.y = torch.zeros(self.x.shape[0], 1)
            self.y[self.x[:, 0] > 0.2] = 1
            self.len = self.x.shape[0]
        def __getitem__(self, index):
            return self.x[index], self.y[index]
        def __len__(self):
            return self.len
    data_set = Data()
    class logistic_regression(nn.Module):
        def __init__(self, n_inputs):
            super(logistic_regression, self).__init__()
            self.linear = nn.Linear(n_inputs, 1)
        def forward(self, x):
            yhat = torch.sigmoid(self.linear(x))
            return yhat
    model = logistic_regression(1)
    model.state_dict() ['linear.weight'].data[0] = torch.tensor([[-5]])
    model.state_dict() ['linear.bias'].data[0] = torch.tensor([[-10]])
    print("The parameters: ", model.state_dict())
    def criterion(yhat,y):
        out = -1 * torch.mean(y * torch.log(yhat) + (1 - y) * torch.log(1 - yhat))
        return out
    trainloader = DataLoader(dataset = data_set, batch_size = 3)
    learning_rate = 2
    optimizer = torch.optim.SGD(model.parameters(), lr = learning_rate)
    for epoch in range(100):
        for x, y in trainloader:
            yhat = model(x)
            loss = criterion(yhat, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        if epoch % 20 == 0:
            print(epoch, loss)
    yhat = model(data_set.x)
    label = yhat > 0.5
    print("The accuracy: ", torch.mean((label == data_set.y.type(torch.ByteTensor)).type(torch.float)))
    print(nn.BCELoss()(yhat, data_set.y))
""")

cell("ibm", "softmax_1d", """
    import torch
    import torch.nn as nn
    from torch.utils.data import Dataset, DataLoader
    torch.manual_seed(0)
    class Data(Dataset):
        def __init__(self):
            self.x = torch.arange(-2, 2, 0.1).view(-1, 1)
            self.y = torch.zeros(self.x.shape[0])
            self.y[(self.x > -1.0)[:, 0] * (self.x < 1.0)[:, 0]] = 1
            self.y[(self.x >= 1.0)[:, 0]] = 2
            self.y = self.y.type(torch.LongTensor)
            self.len = self.x.shape[0]
        def __getitem__(self,index):
            return self.x[index], self.y[index]
        def __len__(self):
            return self.len
    data_set = Data()
    model = nn.Sequential(nn.Linear(1, 3))
    print(model.state_dict())
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr = 0.01)
    trainloader = DataLoader(dataset = data_set, batch_size = 5)
    LOSS = []
    for epoch in range(300):
        for x, y in trainloader:
            optimizer.zero_grad()
            yhat = model(x)
            loss = criterion(yhat, y)
            LOSS.append(loss)
            loss.backward()
            optimizer.step()
    z =  model(data_set.x)
    _, yhat = z.max(1)
    print("The prediction:", yhat)
    correct = (data_set.y == yhat).sum().item()
    accuracy = correct / len(data_set)
    print("The accuracy: ", accuracy)
    print(LOSS[-1])
""")

# ---- IBM, modules 4 and 5: activations, hidden layers, dropout, momentum --

cell("ibm", "activations", """
    import torch
    import torch.nn as nn
    z = torch.arange(-2, 2, 0.5).view(-1, 1)
    print(torch.tanh(z).view(-1), nn.Tanh()(z).view(-1))
    print(torch.relu(z).view(-1), nn.ReLU()(z).view(-1))
    print(torch.sigmoid(z).view(-1))
    Softmax = nn.Softmax(dim=-1)
    print(Softmax(torch.tensor([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]])))
""")

cell("ibm", "hidden_layer_and_modulelist", """
    import torch
    import torch.nn as nn
    torch.manual_seed(0)
    class Net(nn.Module):
        def __init__(self, Layers):
            super(Net, self).__init__()
            self.hidden = nn.ModuleList()
            for input_size, output_size in zip(Layers, Layers[1:]):
                self.hidden.append(nn.Linear(input_size, output_size))
        def forward(self, activation):
            L = len(self.hidden)
            for (l, linear_transform) in zip(range(L), self.hidden):
                if l < L - 1:
                    activation = torch.relu(linear_transform(activation))
                else:
                    activation = linear_transform(activation)
            return activation
    model = Net([2, 4, 3])
    print(model)
    X = torch.randn(5, 2)
    y = torch.tensor([0, 1, 2, 1, 0])
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.4)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(30):
        optimizer.zero_grad()
        loss = criterion(model(X), y)
        loss.backward()
        optimizer.step()
    print(loss, model(X).argmax(dim=1))
    _, yhat = torch.max(model(X), 1)
    print(yhat, (yhat == y).numpy().mean())
""")

cell("ibm", "dropout_and_init", """
    import torch
    import torch.nn as nn
    torch.manual_seed(0)
    model_drop = nn.Sequential(nn.Linear(2, 3), nn.Dropout(p=0.5), nn.ReLU(), nn.Linear(3, 1))
    print(model_drop)
    x = torch.ones(4, 2)
    model_drop.train()
    print(model_drop(x))
    model_drop.eval()
    print(model_drop(x))
    linear = nn.Linear(3, 2)
    nn.init.uniform_(linear.weight, a=-1, b=1)
    nn.init.xavier_uniform_(linear.weight)
    nn.init.kaiming_uniform_(linear.weight, nonlinearity='relu')
    nn.init.zeros_(linear.bias)
    print(linear.weight, linear.bias)
""")
# fmt: on
