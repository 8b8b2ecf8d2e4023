"""IBM's "Deep Neural Networks with PyTorch" labs, module 1 (tensors,
derivatives, datasets), as course cells; see course_cells.py."""

# ruff: noqa: E501 - the courses' own lines, kept as written

from course_cells import cell

# fmt: off

# ---- IBM "Deep Neural Networks with PyTorch", module 1 ------------------

cell("ibm", "1d_types", """
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
""")

cell("ibm", "1d_float_tensor", """
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
""")

cell("ibm", "1d_numpy_shared", """
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
""")

cell("ibm", "1d_indexing", """
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
""")

cell("ibm", "1d_functions", """
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
""")

cell("ibm", "1d_operations", """
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
""")

cell("ibm", "2d_tensors", """
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
""")

cell("ibm", "2d_indexing", """
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
""")

cell("ibm", "2d_operations", """
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
""")

cell("ibm", "derivative_square", """
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
""")

cell("ibm", "derivative_polynomial", """
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
""")

cell("ibm", "partial_derivatives", """
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
""")

cell("ibm", "derivative_many_values", """
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
""")

cell("ibm", "simple_dataset", """
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
""")
# fmt: on
