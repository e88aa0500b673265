# Issue 20, item 3: defaults that fit the optimizer and the network. Included by
# tests/cli/CMakeLists.txt after typegrad_cli_test is defined. The refusals run with no compiler
# (TYPEGRAD_CXX points nowhere): they happen before any compile, in well under 2 s.

# a cost that does not fit the output layer: one line naming the cost that does, exit 2
typegrad_cli_test(issue20_cost_softmax_cross_entropy
    ARGS "train --net 784-30:relu-10:softmax --cost cross-entropy"
    SET_ENV "TYPEGRAD_CXX=/nonexistent/c++"
    EXPECT_EXIT 2
    EXPECT_REGEX "^typegrad: error: --cost cross-entropy does not fit the network's softmax output: cross-entropy takes a sigmoid's outputs, each in \\(0, 1\\). after a softmax use --cost log-likelihood \\(or quadratic\\)"
    TIMEOUT 2)
typegrad_cli_test(issue20_cost_sigmoid_log_likelihood
    ARGS "train --net 784-30-10 --cost log-likelihood"
    SET_ENV "TYPEGRAD_CXX=/nonexistent/c++"
    EXPECT_EXIT 2
    EXPECT_REGEX "^typegrad: error: --cost log-likelihood does not fit the network's sigmoid output: log-likelihood takes a softmax's probability vector. after a sigmoid use --cost cross-entropy \\(or quadratic\\)"
    TIMEOUT 2)
typegrad_cli_test(issue20_cost_linear_cross_entropy
    ARGS "train --net 784-30-10:linear --cost cross-entropy"
    SET_ENV "TYPEGRAD_CXX=/nonexistent/c++"
    EXPECT_EXIT 2
    EXPECT_REGEX "does not fit the network's linear output: .*use --cost quadratic, which fits any output"
    TIMEOUT 2)
typegrad_cli_test(issue20_derive_cost_refused
    ARGS "derive --net 784-30:relu-10:softmax --cost cross-entropy"
    SET_ENV "TYPEGRAD_CXX=/nonexistent/c++"
    EXPECT_EXIT 2
    EXPECT_REGEX "^typegrad: error: --cost cross-entropy does not fit the network's softmax output"
    TIMEOUT 2)
# derive and gradcheck take --cost (and derive --dtype): the compiled-in cross-entropy network, in
# float and in double, with no compile; another network in double is compiled on first use (here:
# no compiler, so it says so)
typegrad_cli_test(issue20_derive_cost
    ARGS "derive --net 784-20-10 --cost cross-entropy --dtype double"
    SET_ENV "TYPEGRAD_CXX=/nonexistent/c++"
    EXPECT_EXIT 1
    EXPECT_REGEX "compiling a network on first use needs the C\\+\\+ compiler")
typegrad_cli_test(issue20_derive_cost_double
    ARGS "derive --net 784-30-10 --cost cross-entropy --dtype double"
    SET_ENV "TYPEGRAD_CXX=/nonexistent/c++"
    EXPECT_REGEX "784-30-10 sigmoid, cross-entropy cost.*δ₁ = a₁ − y")
typegrad_cli_test(issue20_derive_cost_menu
    ARGS "derive --net 784-30-10 --cost cross-entropy"
    SET_ENV "TYPEGRAD_CXX=/nonexistent/c++"
    EXPECT_REGEX "cross-entropy.*δ")
typegrad_cli_test(issue20_gradcheck_float_refused
    ARGS "gradcheck --dtype float"
    EXPECT_EXIT 2
    EXPECT_REGEX "^typegrad: error: --dtype: gradcheck runs in double only, not 'float'")
typegrad_cli_test(issue20_gradcheck_cost
    ARGS "gradcheck --net 784-30-10 --cost cross-entropy --samples 50"
    SET_ENV "TYPEGRAD_CXX=/nonexistent/c++"
    EXPECT_REGEX "autodiff vs reference.*gradients agree")

# --lr is --eta; the default η follows the optimizer (the header states it)
set(quick20 "--epochs 1 --limit 100 --test-limit 50")
typegrad_cli_test(issue20_lr_synonym
    ARGS "train --lr 0.25 ${quick20}"
    EXPECT_REGEX "typegrad train: 784-30-10 sigmoid, quadratic cost, .*, eta 0\\.25,")
typegrad_cli_test(issue20_adam_default_eta
    ARGS "train --net 784-100:relu-10:softmax --optimizer adam ${quick20}"
    SET_ENV "TYPEGRAD_CXX=/nonexistent/c++"
    EXPECT_REGEX "typegrad train: 784-100:relu-10:softmax.*, eta 0\\.001,.*adam")
typegrad_cli_test(issue20_momentum_default_eta
    ARGS "train --net 784-100:relu-10:softmax --optimizer momentum ${quick20}"
    SET_ENV "TYPEGRAD_CXX=/nonexistent/c++"
    EXPECT_REGEX "typegrad train: 784-100:relu-10:softmax.*, eta 0\\.01,.*momentum")
typegrad_cli_test(issue20_adam_given_eta
    ARGS "train --net 784-100:relu-10:softmax --optimizer adam --eta 0.002 ${quick20}"
    SET_ENV "TYPEGRAD_CXX=/nonexistent/c++"
    EXPECT_REGEX ", eta 0\\.002,.*adam")
# the acceptance run: Adam with no --eta on 784-128:relu-10:softmax, 2 epochs of MNIST, >= 96 %
typegrad_cli_test(issue20_adam_mnist
    ARGS "train --net 784-128:relu-10:softmax --optimizer adam --epochs 2 --quiet"
    DATA_ENV TYPEGRAD_MNIST_DIR
    EXPECT_REGEX "eta 0\\.001.*epoch 2/2 +test accuracy 0\\.9[6-9][0-9][0-9]"
    TIMEOUT 900)
