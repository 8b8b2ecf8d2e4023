"""IBM's "Deep Neural Networks with PyTorch" labs (modules 1 to 3) as course
cells; see course_cells.py."""

# ruff: noqa: E501 - the courses' own lines, kept as written

from course_cells import cell

# ---- IBM "Deep Neural Networks with PyTorch", module 1 ------------------

cell(
    "ibm",
    "1d_types",
    """
    import torch
    ints_to_tensor = torch.tensor([0, 1, 2, 3, 4])
    print("The dtype of tensor object after converting it to tensor: ", ints_to_tensor.dtype)
    print("The type of tensor object after converting it to tensor: ", ints_to_tensor.type())
    floats_to_tensor = torch.tensor([0.0, 1.0, 2.0, 3.0, 4.0])
    print("The dtype of tensor object after converting it to tensor: ", floats_to_tensor.dtype)
    print("The type of tensor object after converting it to tensor: ", floats_to_tensor.type())
    list_floats = [0.0, 1.0, 2.0, 3.0, 4.0]
    floats_int_tensor = torch.tensor(list_floats, dtype=torch.int64)
    print("The dtype of tensor object is: ", floats_int_tensor.dtype)
    print("The type of tensor object is: ", floats_int_tensor.type())
""",
)

cell(
    "ibm",
    "1d_float_tensor",
    """
    import torch
    new_float_tensor = torch.FloatTensor([0, 1, 2, 3, 4])
    new_float_tensor.type()
    print("The type of the new_float_tensor:", new_float_tensor.type())
    old_int_tensor = torch.tensor([0, 1, 2, 3, 4])
    new_float_tensor = old_int_tensor.type(torch.FloatTensor)
    print("The type of the new_float_tensor:", new_float_tensor.type())
    print("The size of the new_float_tensor: ", new_float_tensor.size())
    print("The dimension of the new_float_tensor: ", new_float_tensor.ndimension())
    twoD_float_tensor = new_float_tensor.view(5, 1)
    print("Original Size: ", new_float_tensor)
    print("Size after view method", twoD_float_tensor)
    twoD_float_tensor = new_float_tensor.view(-1, 1)
    print("Size after view method", twoD_float_tensor.shape)
""",
)

cell(
    "ibm",
    "1d_numpy_shared",
    """
    import torch
    import numpy as np
    numpy_array = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    new_tensor = torch.from_numpy(numpy_array)
    print("The dtype of new tensor: ", new_tensor.dtype)
    print("The type of new tensor: ", new_tensor.type())
    back_to_numpy = new_tensor.numpy()
    print("The numpy array from tensor: ", back_to_numpy)
    print("The dtype of numpy array: ", back_to_numpy.dtype)
    numpy_array[:] = 0
    print("The new tensor points to numpy_array : ", new_tensor)
    print("and back to numpy array points to the tensor: ", back_to_numpy)
""",
)

cell(
    "ibm",
    "1d_indexing",
    """
    import torch
    index_tensor = torch.tensor([0, 1, 2, 3, 4])
    print("The value on index 0:", index_tensor[0])
    print("The value on index 4:", index_tensor[4])
    tensor_sample = torch.tensor([20, 1, 2, 3, 4])
    tensor_sample[0] = 100
    print("Modified tensor: ", tensor_sample)
    subset_tensor_sample = tensor_sample[1:4]
    print("Original tensor sample: ", tensor_sample)
    print("The subset of tensor sample:", subset_tensor_sample)
    tensor_sample[3:5] = torch.tensor([300.0, 400.0])
    print("Modified tensor with one value: ", tensor_sample)
    selected_indexes = [3, 4]
    subset_tensor_sample = tensor_sample[selected_indexes]
    print("The subset of tensor_sample with the values on index 3 and 4: ", subset_tensor_sample)
    tensor_sample[[1, 3]] = 100000
    print("Modified tensor with one value: ", tensor_sample)
    print(tensor_sample[2].item(), tensor_sample.tolist())
""",
)

cell(
    "ibm",
    "1d_functions",
    """
    import torch
    import numpy as np
    math_tensor = torch.tensor([1.0, -1.0, 1, -1])
    print("Tensor example: ", math_tensor)
    mean = math_tensor.mean()
    print("The mean of math_tensor: ", mean)
    standard_deviation = math_tensor.std()
    print("The standard deviation of math_tensor: ", standard_deviation)
    max_min_tensor = torch.tensor([1, 1, 3, 5, 5])
    print("Tensor example: ", max_min_tensor)
    print("Maximum number in the tensor: ", max_min_tensor.max())
    print("Minimum number in the tensor: ", max_min_tensor.min())
    pi_tensor = torch.tensor([0, np.pi/2, np.pi])
    sin = torch.sin(pi_tensor)
    print("The sin result of pi_tensor: ", sin)
    len_5_tensor = torch.linspace(-2, 2, steps = 5)
    print ("First Try on linspace", len_5_tensor)
    len_9_tensor = torch.linspace(-2, 2, steps = 9)
    print ("Second Try on linspace", len_9_tensor)
""",
)

cell(
    "ibm",
    "1d_operations",
    """
    import torch
    u = torch.tensor([1, 0])
    v = torch.tensor([0, 1])
    w = u + v
    print("Addition Result: ", w)
    w = u - v
    print("Subtraction Result: ", w)
    u = torch.tensor([1, 2, 3, -1])
    v = u + 1
    print ("Addition Result: ", v)
    u = torch.tensor([1, 2])
    v = 2 * u
    print("The result of 2 * u: ", v)
    u = torch.tensor([1, 2])
    v = torch.tensor([3, 2])
    w = u * v
    print ("The result of u * v", w)
    print("Dot Product of u, v:", torch.dot(u,v))
    print(torch.tensor([1.5, 2.5]) / 2, torch.tensor([3]) / torch.tensor([2]))
""",
)

cell(
    "ibm",
    "2d_tensors",
    """
    import torch
    import numpy as np
    twoD_list = [[11, 12, 13], [21, 22, 23], [31, 32, 33]]
    twoD_tensor = torch.tensor(twoD_list)
    print("The New 2D Tensor: ", twoD_tensor)
    print("The dimension of twoD_tensor: ", twoD_tensor.ndimension())
    print("The shape of twoD_tensor: ", twoD_tensor.shape)
    print("The shape of twoD_tensor: ", twoD_tensor.size())
    print("The number of elements in twoD_tensor: ", twoD_tensor.numel())
    twoD_numpy = twoD_tensor.numpy()
    print("Tensor -> Numpy Array:")
    print("The numpy array after converting: ", twoD_numpy)
    print("Type after converting: ", twoD_numpy.dtype)
    new_twoD_tensor = torch.from_numpy(twoD_numpy)
    print("Numpy Array -> Tensor:")
    print("The tensor after converting:", new_twoD_tensor)
    print("Type after converting: ", new_twoD_tensor.dtype)
""",
)

cell(
    "ibm",
    "2d_indexing",
    """
    import torch
    tensor_example = torch.tensor([[11, 12, 13], [21, 22, 23], [31, 32, 33]])
    print("What is the value on 2nd-row 3rd-column? ", tensor_example[1, 2])
    print("What is the value on 2nd-row 3rd-column? ", tensor_example[1][2])
    print("What is the value on 1st-row first two columns? ", tensor_example[0, 0:2])
    print("What is the value on 1st-row first two columns? ", tensor_example[0][0:2])
    sliced_tensor_example = tensor_example[1:3]
    print("1. Slicing step on tensor_example: ")
    print("Result after tensor_example[1:3]: ", sliced_tensor_example)
    print("Dimension after tensor_example[1:3]: ", sliced_tensor_example.ndimension())
    print("Result: ", tensor_example[1:3, 2])
    tensor_example[1:3, 1] = 0
    print(tensor_example)
""",
)

cell(
    "ibm",
    "2d_operations",
    """
    import torch
    X = torch.tensor([[1, 0],[0, 1]])
    Y = torch.tensor([[2, 1],[1, 2]])
    X_plus_Y = X + Y
    print("The result of X + Y: ", X_plus_Y)
    two_Y = 2 * Y
    print("The result of 2Y: ", two_Y)
    X_times_Y = X * Y
    print("The result of X * Y: ", X_times_Y)
    A = torch.tensor([[0, 1, 1], [1, 0, 1]])
    B = torch.tensor([[1, 1], [1, 1], [-1, 1]])
    A_times_B = torch.mm(A,B)
    print("The result of A * B: ", A_times_B)
    A = torch.tensor([[1., 2, 3], [4, 5, 6]])
    B = torch.tensor([[7., 8], [9, 10], [11, 12]])
    print(torch.mm(A, B), A @ B)
""",
)

cell(
    "ibm",
    "derivative_square",
    """
    import torch
    x = torch.tensor(2.0, requires_grad = True)
    print("The tensor x: ", x)
    y = x ** 2
    print("The result of y = x^2: ", y)
    y.backward()
    print("The dervative at x = 2: ", x.grad)
    print('data:',x.data)
    print('grad_fn:',x.grad_fn)
    print('grad:',x.grad)
    print("is_leaf:",x.is_leaf)
    print("requires_grad:",x.requires_grad)
    print('data:',y.data)
    print('grad_fn:',y.grad_fn)
    print("is_leaf:",y.is_leaf)
    print("requires_grad:",y.requires_grad)
""",
)

cell(
    "ibm",
    "derivative_polynomial",
    """
    import torch
    x = torch.tensor(2.0, requires_grad = True)
    y = x ** 2 + 2 * x + 1
    print("The result of y = x^2 + 2x + 1: ", y)
    y.backward()
    print("The dervative at x = 2: ", x.grad)
    x = torch.tensor(1.0, requires_grad=True)
    y = 2 * x ** 3 + x
    y.backward()
    print(y, x.grad)
""",
)

cell(
    "ibm",
    "partial_derivatives",
    """
    import torch
    u = torch.tensor(1.0,requires_grad=True)
    v = torch.tensor(2.0,requires_grad=True)
    f = u * v + u ** 2
    print("The result of v * u + u^2: ", f)
    f.backward()
    print("The partial derivative with respect to u: ", u.grad)
    print("The partial derivative with respect to u: ", v.grad)
    u = torch.tensor(2.0, requires_grad = True)
    v = torch.tensor(1.0, requires_grad = True)
    f = u * v + (u * v) ** 2
    f.backward()
    print("The result is ", u.grad, v.grad)
""",
)

cell(
    "ibm",
    "derivative_many_values",
    """
    import torch
    import torch.nn.functional as F
    x = torch.linspace(-10, 10, 10, requires_grad = True)
    Y = x ** 2
    y = torch.sum(x ** 2)
    y.backward()
    print(x.grad)
    x = torch.linspace(-3, 3, 100, requires_grad = True)
    Y = F.relu(x)
    y = Y.sum()
    y.backward()
    print(x.grad.sum(), x.grad[45:55])
    print(Y.detach().numpy()[48:52], x.grad.detach().numpy()[48:52])
""",
)

cell(
    "ibm",
    "simple_dataset",
    """
    import torch
    from torch.utils.data import Dataset
    from torchvision import transforms
    torch.manual_seed(1)

    class toy_set(Dataset):
        def __init__(self, length = 100, transform = None):
            self.len = length
            self.x = 2 * torch.ones(length, 2)
            self.y = torch.ones(length, 1)
            self.transform = transform
        def __getitem__(self, index):
            sample = self.x[index], self.y[index]
            if self.transform:
                sample = self.transform(sample)
            return sample
        def __len__(self):
            return self.len

    class add_mult(object):
        def __init__(self, addx = 1, muly = 2):
            self.addx = addx
            self.muly = muly
        def __call__(self, sample):
            x = sample[0]
            y = sample[1]
            x = x + self.addx
            y = y * self.muly
            sample = x, y
            return sample

    class mult(object):
        def __init__(self, mult = 100):
            self.mult = mult
        def __call__(self, sample):
            x = sample[0]
            y = sample[1]
            x = x * self.mult
            y = y * self.mult
            sample = x, y
            return sample

    our_dataset = toy_set()
    print("Our toy_set object: ", our_dataset)
    print("Value on index 0 of our toy_set object: ", our_dataset[0])
    print("Our toy_set length: ", len(our_dataset))
    for i in range(3):
        x, y=our_dataset[i]
        print("index: ", i, '; x:', x, '; y:', y)
    data_transform = transforms.Compose([add_mult(), mult()])
    print("The combination of transforms (Compose): ", data_transform)
    compose_data_set = toy_set(transform = data_transform)
    for i in range(3):
        x, y = our_dataset[i]
        print('Index: ', i, 'Original x: ', x, 'Original y: ', y)
        x_co, y_co = compose_data_set[i]
        print('Index: ', i, 'Compose Transformed x_co: ', x_co ,'Compose Transformed y_co: ',y_co)
""",
)

# ---- IBM, module 2 and 3: regression and classification ------------------

cell(
    "ibm",
    "prediction",
    """
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
""",
)

cell(
    "ibm",
    "custom_module",
    """
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
""",
)

cell(
    "ibm",
    "slope_one_parameter",
    """
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
""",
)

cell(
    "ibm",
    "two_parameters",
    """
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
""",
)

cell(
    "ibm",
    "sgd_dataloader",
    """
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
""",
)

cell(
    "ibm",
    "minibatch",
    """
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
""",
)

cell(
    "ibm",
    "pytorch_way",
    """
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
""",
)

cell(
    "ibm",
    "multiple_linear_regression",
    """
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
""",
)

cell(
    "ibm",
    "logistic_prediction",
    """
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
""",
)

cell(
    "ibm",
    "logistic_cross_entropy",
    """
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
""",
)

cell(
    "ibm",
    "softmax_1d",
    """
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
""",
)
