# Issue 19, item 3: GELU, SiLU and leaky ReLU through the CLI — trained, saved and read back by
# their layer names, derived, and gradient-checked (autodiff and the reference's own formulas
# against finite differences). Each network is compiled on first use (tens of seconds), hence
# the long timeouts. Included by tests/cli/CMakeLists.txt after typegrad_cli_test is defined.

typegrad_cli_test(issue19_train_gelu
    ARGS "train --net 784-16:gelu-10:softmax --epochs 1 --limit 500 --test-limit 100 --quiet"
    EXPECT_REGEX "typegrad train: 784-16:gelu-10:softmax.*epoch 1/1 +test accuracy 0\\.[0-9][0-9][0-9][0-9]"
    TIMEOUT 600)
# silu after ':' and leakyrelu on its own; the checkpoint's layer description (… | silu |
# leaky_relu | …) reads back as the same spec
typegrad_cli_test(issue19_train_silu_leakyrelu
    ARGS "train --net 784-16:silu-leakyrelu-10:softmax --epochs 1 --limit 500 --test-limit 100 --quiet --save run.tgck"
    EXPECT_REGEX "epoch 1/1 +test accuracy 0\\.[0-9][0-9][0-9][0-9]"
    CHECK_EXISTS run.tgck
    POST_ARGS "eval --model run.tgck --test-limit 100"
    POST_REGEX "typegrad eval: run.tgck: 784-16:silu-leakyrelu-10:softmax.*test accuracy 0\\.[0-9][0-9][0-9][0-9]"
    TIMEOUT 600)
typegrad_cli_test(issue19_gradcheck
    ARGS "gradcheck --net 784-8:gelu-6:silu-5:leakyrelu-10:softmax --samples 100"
    EXPECT_REGEX "autodiff vs reference +[0-9.e+-]+ .*autodiff vs finite differences +[0-9.]+e-(0[7-9]|1[0-9]).*reference vs finite differences +[0-9.]+e-(0[7-9]|1[0-9]).*gradients agree"
    TIMEOUT 600)
typegrad_cli_test(issue19_unknown_activation ARGS "train --net 784-30:swish-10" EXPECT_EXIT 2
    EXPECT_REGEX "unknown activation 'swish' \\(sigmoid, tanh, relu, gelu, silu, leakyrelu, softmax, linear\\)")
